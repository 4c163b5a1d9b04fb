"""The assistant's panel in a real headless Chromium: on every page, with the offline assistant and with Gemini."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from chat.models import ChatHistory
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory
from tests.fake_gemini import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def days(count: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=count)


def panel(page):
    return page.get_by_role("complementary", name="Assistant")


def ask(page, question: str) -> None:
    box = panel(page).get_by_role("textbox", name="Message")
    box.fill(question)
    box.press("Enter")


def test_find_overdue_work_go_to_it_and_ask_about_the_project_there(page, log_in):
    user = UserFactory()
    apollo = ProjectFactory(owner=user, name="Apollo launch")
    late = TaskFactory(project=apollo, title="Write the press release", due_date=days(-3))
    TaskFactory(project=apollo, title="Book the venue", due_date=days(2), status="in-progress")
    TaskFactory(project=apollo, title="Kick-off", status="done")
    bakery = ProjectFactory(owner=user, name="Bakery opening")
    TaskFactory(project=bakery, title="Buy ovens", due_date=days(-1))
    ChatHistoryFactory(user=user, project=apollo, message="Plan the launch")  # the planning chat's
    log_in(user)

    page.get_by_role("button", name="Assistant", exact=True).click()
    expect(panel(page)).to_be_visible()
    expect(panel(page).get_by_role("textbox", name="Message")).to_be_focused()
    ask(page, "What is overdue?")

    answer = panel(page).locator(".reply--complete .reply__text")
    expect(answer).to_contain_text("2 tasks overdue")
    expect(answer.get_by_role("link", name="Buy ovens")).to_have_attribute(
        "href", re.compile(rf"^/projects/{bakery.pk}/#task-\w+$")
    )
    answer.get_by_role("link", name="Write the press release").click()

    page.wait_for_url(f"**/projects/{apollo.pk}/#task-{late.pk}")
    expect(page.locator(f"#task-{late.pk}")).to_be_visible()
    expect(panel(page)).to_be_visible()  # still open on the next page, with its conversation
    expect(panel(page).locator(".bubble--user")).to_have_text(["What is overdue?"])
    expect(panel(page).get_by_text(f"On {apollo.name}")).to_be_visible()

    ask(page, "What's left here?")

    latest = panel(page).locator(".exchange").last
    expect(latest.locator(".reply__text")).to_contain_text("Apollo launch")
    expect(latest.locator(".reply__text")).to_contain_text("Book the venue")
    expect(latest.locator(".reply__text")).not_to_contain_text("Kick-off")
    expect(latest.locator(".reply__text")).not_to_contain_text("Buy ovens")
    assert ChatHistory.objects.filter(chat_type="navigation").count() == 2

    # Its history is its own: the project's planning chat holds only its exchange.
    page.goto(f"/projects/{apollo.pk}/chat/")
    expect(page.locator("#messages .bubble--user")).to_have_text(["Plan the launch"])
    expect(panel(page).locator(".bubble--user")).to_have_count(2)

    # Clear empties only the assistant's chat, after confirming, and leaves the page as it is.
    panel(page).get_by_text("Clear").click()
    panel(page).get_by_role("button", name="Delete 2 messages").click()
    expect(page.get_by_text("Removed 2 messages from this chat.")).to_be_visible()
    expect(panel(page).get_by_text("Ask me where anything is")).to_be_visible()
    expect(page.locator("#messages .bubble--user")).to_have_text(["Plan the launch"])
    assert list(ChatHistory.objects.values_list("message", flat=True)) == ["Plan the launch"]


def test_open_a_project_by_name_with_the_go_button_and_keyboard(page, log_in):
    user = UserFactory()
    bakery = ProjectFactory(owner=user, name="Bakery opening")
    ProjectFactory(owner=user, name="Apollo launch")
    log_in(user)

    page.keyboard.press("Control+k")
    expect(panel(page)).to_be_visible()
    ask(page, "open the bakery project")
    go = panel(page).get_by_role("link", name="Go to Bakery opening")
    expect(go).to_be_visible()

    # Half a question survives the page change; so does the open panel.
    panel(page).get_by_role("textbox", name="Message").fill("and where is my pass")
    go.click()
    page.wait_for_url(f"**/projects/{bakery.pk}/")
    expect(panel(page).get_by_role("textbox", name="Message")).to_have_value("and where is my pass")

    panel(page).get_by_role("textbox", name="Message").press("Escape")
    expect(panel(page)).to_be_hidden()
    expect(page.get_by_role("button", name="Assistant", exact=True)).to_have_attribute("aria-expanded", "false")
    page.reload()
    expect(panel(page)).to_be_hidden()  # closed stays closed

    page.get_by_role("button", name="Assistant", exact=True).click()
    ask(page, "where do I change my password?")
    expect(panel(page).get_by_role("link", name="Go to Change password")).to_have_attribute(
        "href", "/accounts/password/change/"
    )


def test_a_models_outside_script_and_other_users_links_are_never_clickable(page, log_in, fake_gemini):
    user = UserFactory()
    own = ProjectFactory(owner=user, name="Apollo launch")
    theirs = ProjectFactory(name="Somebody else's")
    fake_gemini.script(
        Reply(
            [
                f"Open [Apollo launch](/projects/{own.pk}/) or [theirs](/projects/{theirs.pk}/). ",
                "Also [a prize](https://evil.example/win) and [this](javascript:document.title='owned').\n\n",
                "Done.",
            ]
        )
    )
    log_in(user)

    page.get_by_role("button", name="Assistant", exact=True).click()
    ask(page, "Where is everything?")

    answer = panel(page).locator(".reply--complete .reply__text")
    expect(answer).to_contain_text("Done.")
    expect(answer.get_by_role("link")).to_have_count(1)
    expect(answer.get_by_role("link", name="Apollo launch")).to_have_attribute("href", f"/projects/{own.pk}/")
    expect(answer).to_contain_text("or theirs. Also a prize and")  # their words stay, as words
    assert page.locator("#assistant a[href^='javascript'], #assistant a[href*='evil']").count() == 0
    expect(panel(page).get_by_role("link", name="Go to Apollo launch")).to_be_visible()
    assert page.title() != "owned"


def test_the_panel_keeps_its_place_in_a_long_conversation_across_pages(page, log_in):
    user = UserFactory()
    start = timezone.now() - datetime.timedelta(hours=1)
    for index in range(12):
        ChatHistoryFactory(
            user=user,
            chat_type="navigation",
            message=f"Question {index}?",
            response="A long answer.\n\n" + "- one more line\n" * 8,
            created_at=start + datetime.timedelta(minutes=index),
        )
    log_in(user)
    toggle = page.get_by_role("button", name="Assistant", exact=True)
    toggle.focus()
    page.keyboard.press(" ")  # a button's key works on it
    conversation = panel(page).get_by_role("log")
    expect(conversation.locator(".exchange")).to_have_count(12)
    at_end = conversation.evaluate("log => log.scrollHeight - log.scrollTop - log.clientHeight")
    assert at_end < 5  # opens at the newest message
    conversation.evaluate("log => { log.scrollTop = 200; log.dispatchEvent(new Event('scroll')); }")

    page.goto("/projects/")

    expect(conversation.locator(".exchange")).to_have_count(12)
    page.wait_for_function("() => Math.abs(document.querySelector('#assistant [data-chat-log]').scrollTop - 200) < 5")


def test_the_panel_fits_a_phone(page, log_in):
    user = UserFactory()
    log_in(user)
    page.set_viewport_size({"width": 390, "height": 760})
    page.get_by_role("button", name="Assistant", exact=True).click()
    expect(panel(page).get_by_role("textbox", name="Message")).to_be_visible()
    page.wait_for_function("() => document.getElementById('assistant').getBoundingClientRect().left === 0")  # slid in
    assert panel(page).bounding_box()["width"] == pytest.approx(390, abs=0.5)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    panel(page).get_by_role("button", name="Close the assistant").click()
    expect(panel(page)).to_be_hidden()
