"""Every main page on a phone, in a real headless Chromium: nothing scrolls sideways,
the nav folds into a menu, and the chat's conversation gets the screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.walkthrough import SIGNED_OUT_PAGES, a_draft_started, a_full_account, list_view_shown, signed_in_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_WIDTHS = [320, 390, 430]
PHONE_HEIGHT = 760


def sideways(page) -> int:
    """How far the page scrolls sideways (0 when it fits its width)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def expanded(page, button: str) -> bool | None:
    """The expanded state the browser gives a button's users (a popover's invoker has one
    without aria-expanded, so Playwright's own snapshot cannot see it)."""
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    session.detach()
    for node in nodes:
        if node["role"]["value"] == "button" and node.get("name", {}).get("value") == button:
            return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}.get("expanded")
    return None


@pytest.mark.parametrize("width", PHONE_WIDTHS)
def test_no_main_page_scrolls_sideways_on_a_phone(page, log_in, quick_chat, width):
    user, project = a_full_account()
    page.set_viewport_size({"width": width, "height": PHONE_HEIGHT})
    wide = {}

    def visit(path):
        page.goto(path)
        if (by := sideways(page)) > 0:
            wide[path] = by

    for path in SIGNED_OUT_PAGES:
        visit(path)
    log_in(user)
    for path in signed_in_pages(project, a_draft_started(page)):
        visit(path)
    list_view_shown(page, project)
    if (by := sideways(page)) > 0:
        wide["list view"] = by

    assert wide == {}, f"pages wider than {width} px (by how much): {wide}"


def test_on_a_phone_the_nav_is_a_menu_that_opens_and_leads_to_each_page(page, log_in):
    user, project = a_full_account()
    log_in(user)
    page.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    page.goto("/projects/")
    header = page.locator(".site-header")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")

    # One row: the brand, the menu, the assistant and the account, and no links until asked.
    expect(nav).to_be_hidden()
    assert header.bounding_box()["height"] <= 64
    expect(header.get_by_role("button", name="Assistant", exact=True)).to_be_visible()
    expect(header.get_by_label("Account menu")).to_be_visible()

    menu.click()
    expect(nav).to_be_visible()
    assert expanded(page, "Menu") is True
    expect(nav.get_by_role("link", name="Projects")).to_have_attribute("aria-current", "page")
    assert nav.bounding_box()["y"] >= header.bounding_box()["height"] - 1  # opens under the header
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    assert expanded(page, "Menu") is False

    for name, url in [
        ("Planning chat", "/chat/"),
        ("New project", "/projects/new/"),
        ("Projects", "/projects/"),
        ("Dashboard", "/"),
    ]:
        menu.click()
        nav.get_by_role("link", name=name).click()
        expect(page).to_have_url(url)
        expect(nav).to_be_hidden()
        menu.click()
        expect(nav.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
        page.mouse.click(200, 700)  # a tap outside closes it
        expect(nav).to_be_hidden()

    # The Assistant stays one tap away in the header.
    header.get_by_role("button", name="Assistant", exact=True).click()
    expect(page.get_by_role("complementary", name="Assistant")).to_be_visible()

    # Wider, the links are in the header and there is no menu.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(nav).to_be_visible()
    expect(menu).to_be_hidden()


@pytest.mark.parametrize("where", ["planning", "project", "assistant"])
def test_on_a_phone_the_conversation_gets_most_of_the_screen(page, log_in, quick_chat, where):
    user, project = a_full_account()
    log_in(user)
    page.set_viewport_size({"width": 390, "height": PHONE_HEIGHT})
    pages = {"planning": "/chat/", "project": f"/projects/{project.pk}/chat/", "assistant": "/chat/assistant/"}
    page.goto(pages[where])

    log = page.locator("main [data-chat-log]")
    assert log.bounding_box()["height"] >= 0.6 * PHONE_HEIGHT
    head = page.locator(".chat-head")
    assert head.bounding_box()["height"] <= 64  # one row

    # The rest of the head's tools are in its menu.
    page.get_by_role("button", name="Chat tools").click()
    tools = page.locator(".chat-head__menu")
    expect(tools.get_by_role("link", name="Export this chat as Markdown")).to_be_visible()
    if where == "project":
        expect(tools.get_by_role("button", name="Suggest changes")).to_be_visible()
    tools.get_by_text("Clear history").click()
    expect(tools.get_by_role("button", name=re.compile(r"^Delete \d+ messages?$"))).to_be_visible()
    assert sideways(page) == 0
    tools.get_by_role("button", name="Cancel").click()
    page.keyboard.press("Escape")
    expect(tools).to_be_hidden()

    # Search opens across the head while it is used, and finds.
    search = page.get_by_role("searchbox", name="Search messages in this chat")
    assert search.bounding_box()["width"] <= 44
    search.click()
    page.wait_for_function("box => box.getBoundingClientRect().width > 200", arg=search.element_handle())
    search.fill("the")
    expect(page.locator(".search-summary")).to_contain_text("match")
    assert sideways(page) == 0
    page.get_by_role("link", name="Back to the conversation").click()
    expect(page.locator(".search-summary")).to_have_count(0)

    if where == "project":  # a command from the menu closes it, so its answer is in sight
        page.get_by_role("button", name="Chat tools").click()
        tools.get_by_role("button", name="Summarise status").click()
        expect(tools).to_be_hidden()
        expect(page.locator(".bubble--user").last).to_contain_text("Summarise the status")
        # The exchange is in sight (a long report may already have pushed its question above the screen).
        expect(page.locator("main .exchange").last).to_be_in_viewport()
