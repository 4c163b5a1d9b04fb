"""Every icon a template asks for is drawn by the sprite."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SPRITE = ROOT / "static" / "img" / "icons.svg"


def _templates() -> list[Path]:
    return [path for path in ROOT.glob("*/templates/**/*.html") if ".venv" not in path.parts] + list(
        (ROOT / "templates").glob("**/*.html")
    )


def test_every_icon_used_is_a_symbol_of_the_sprite():
    symbols = set(re.findall(r'<symbol id="icon-([a-z-]+)"', SPRITE.read_text()))
    used = {}
    for path in _templates():
        text = path.read_text()
        for name in re.findall(r'_icon\.html" with name="([a-z-]+)"', text) + re.findall(r"#icon-([a-z-]+)", text):
            used.setdefault(name, path.relative_to(ROOT))
    assert used, "no icon found: the patterns above no longer match the templates"
    missing = {name: str(path) for name, path in used.items() if name not in symbols}
    assert not missing, f"icons used but not in {SPRITE.name}: {missing}"
    assert symbols - set(used) == set(), f"symbols nobody uses: {sorted(symbols - set(used))}"
