"""Accessibility checks for the browser journeys.

axe-core is npm's ``axe-core`` (package.json, ``npm ci``), run on a Playwright page; text on
a gradient, which axe leaves for a person to judge, is measured here.

The site's policy (``script-src 'self'``) blocks an injected ``<script>`` with inline source,
which is what Playwright's ``add_script_tag`` adds; its ``evaluate`` runs the source through
the DevTools protocol instead, which the policy does not govern. So the page is checked with
its real policy in force, and nothing about it changes for the test.
"""

import re
from pathlib import Path
from typing import Any

AXE_SCRIPT = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

# axe's default rules (WCAG 2 A and AA, and best practice); each violation with what a reader needs to find it.
_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.map(String).join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, its script added first if the page lacks it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    return page.evaluate(_RUN)


def axe_report(found: dict[str, list[dict[str, Any]]]) -> str:
    """The violations found on each page, one per rule and its nodes, for a failure message."""
    lines = []
    for where, violations in found.items():
        for violation in violations:
            rule = f"{violation['id']} ({violation['impact']}) {violation['help']} {violation['helpUrl']}"
            lines.append(f"{where}: {rule}")
            for node in violation["nodes"]:
                summary = " ".join(node["summary"].split())
                lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


# Each element drawn over a CSS gradient (which axe leaves unchecked), with the gradient and the
# colour of every piece of visible text on it.
_GRADIENT_TEXT = """() => [...document.querySelectorAll("*")]
  .filter(box => getComputedStyle(box).backgroundImage.includes("linear-gradient(") && box.checkVisibility())
  .flatMap(box => [box, ...box.querySelectorAll("*")]
    .filter(el => el.checkVisibility() && [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(el => ({
      text: el.textContent.trim().slice(0, 40),
      color: getComputedStyle(el).color,
      gradient: getComputedStyle(box).backgroundImage,
    })))"""


def _rgba(css: str) -> list[tuple[float, ...]]:
    """The ``rgb()``/``rgba()`` colours in a computed CSS value, alpha last (1 when absent)."""
    colours = []
    for inside in re.findall(r"rgba?\(([^)]*)\)", css):
        parts = [float(part) for part in re.split(r"[\s,/]+", inside.strip())]
        colours.append((*parts[:3], parts[3] if len(parts) > 3 else 1.0))
    return colours


def _luminance(rgb: tuple[float, ...]) -> float:
    def linear(channel: float) -> float:
        channel /= 255
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in rgb[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(foreground: tuple[float, ...], background: tuple[float, ...]) -> float:
    """WCAG 2's contrast ratio of a colour (its alpha blended over the background) on an opaque one."""
    alpha = foreground[3]
    blended = tuple(alpha * f + (1 - alpha) * b for f, b in zip(foreground[:3], background[:3], strict=True))
    lighter, darker = sorted((_luminance(blended), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def gradient_text_contrasts(page: Any) -> list[tuple[str, float]]:
    """Each text on a two-colour gradient with its lowest contrast anywhere along the gradient."""
    found = []
    for item in page.evaluate(_GRADIENT_TEXT):
        start, end = _rgba(item["gradient"])[:2]
        along = [tuple(s + (e - s) * step / 10 for s, e in zip(start, end, strict=True)) for step in range(11)]
        found.append((item["text"], min(contrast(_rgba(item["color"])[0], colour) for colour in along)))
    return found
