"""axe-core finds nothing on any main page, signed out and in, light and dark, desktop and phone,
in a real Chromium; and text on a gradient, which axe cannot measure, is measured here."""

import os

import pytest
from playwright.sync_api import expect

from tests.accessibility import AXE_SCRIPT, axe_report, axe_violations, gradient_text_contrasts
from tests.walkthrough import SIGNED_OUT_PAGES, a_draft_started, a_full_account, list_view_shown, signed_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 760}}


@pytest.fixture
def axe(chromium_path):
    """axe-core's script, installed by ``npm ci``; skipped (or failed, in CI) when absent."""
    if not AXE_SCRIPT.is_file():
        message = "axe-core is not installed: the accessibility journeys need npm (`make test` runs `npm ci`)."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return axe_violations


def checked(page, axe, found: dict, where: str) -> None:
    """Run axe on the page once its requests have settled; keep what it finds under ``where``."""
    page.wait_for_load_state("networkidle")
    if violations := axe(page):
        found[where] = violations


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_signed_out_pages_have_no_accessibility_violations(axe, page, scheme, screen):
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size(SCREENS[screen])
    found: dict = {}
    for path in SIGNED_OUT_PAGES:
        page.goto(path)
        checked(page, axe, found, path)

    assert not found, f"axe-core violations ({scheme}, {screen}):\n{axe_report(found)}"


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_signed_in_pages_have_no_accessibility_violations(axe, page, log_in, quick_chat, scheme, screen):
    user, project = a_full_account()
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size(SCREENS[screen])
    log_in(user)
    found: dict = {}
    for path in signed_in_pages(project, a_draft_started(page)):
        page.goto(path)
        checked(page, axe, found, path)
    list_view_shown(page, project)
    checked(page, axe, found, "project list view")

    # The assistant's panel, open over a page.
    page.goto("/projects/")
    page.get_by_role("button", name="Assistant", exact=True).click()
    expect(page.get_by_role("complementary", name="Assistant").get_by_role("textbox", name="Message")).to_be_visible()
    checked(page, axe, found, "assistant panel")

    assert not found, f"axe-core violations ({scheme}, {screen}):\n{axe_report(found)}"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_text_on_a_gradient_has_enough_contrast_all_along_it(page, log_in, scheme):
    user, _ = a_full_account()
    page.emulate_media(color_scheme=scheme)
    log_in(user)
    measured = {}
    for path in ("/", "/chat/"):
        page.goto(path)
        measured.update({f"{path} {text!r}": round(ratio, 2) for text, ratio in gradient_text_contrasts(page)})

    assert any("Describe your goal" in where for where in measured), measured  # the primary quick action
    assert {where: ratio for where, ratio in measured.items() if ratio < 4.5} == {}
