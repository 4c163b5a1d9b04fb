"""Planning chat journeys in a real headless Chromium."""

import threading

import pytest
from playwright.sync_api import expect

from chat.providers import get_provider
from tests.factories import ProjectFactory, TaskFactory, UserFactory
from tests.fake_gemini import Failure, Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def release():
    event = threading.Event()
    yield event
    event.set()


def composer(page):
    return page.get_by_role("textbox", name="Message")


def test_send_watch_tokens_stop_retry_reload_and_clear(page, log_in, fake_model, release):
    fake_model.script(
        Reply(["First words", " that never arrive"], hold=release, hold_after=1), Reply(["A **fresh** answer."])
    )
    log_in(UserFactory())
    page.goto("/chat/")
    expect(page.get_by_text(get_provider().label)).to_be_visible()

    composer(page).fill("Plan the launch")
    composer(page).press("Enter")

    expect(page.locator(".bubble--user")).to_have_text("Plan the launch")
    streaming = page.locator(".reply__text--streaming")
    expect(streaming).to_have_text("First words")
    expect(streaming).to_have_attribute("aria-live", "polite")
    expect(composer(page)).to_have_value("")
    expect(composer(page)).to_be_focused()
    composer(page).fill("Waiting")
    expect(page.get_by_role("button", name="Send message")).to_be_disabled()

    page.get_by_role("button", name="Stop").click()

    expect(page.get_by_text("You stopped this reply.")).to_be_visible()
    expect(page.locator(".reply__text")).to_have_text("First words")
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    release.set()  # the held model writes again and finds the request cancelled
    assert fake_model.client_disconnected.wait(5)
    expect(page.get_by_role("button", name="Send message")).to_be_enabled()

    page.get_by_role("button", name="Retry").click()

    expect(page.locator(".reply__text strong")).to_have_text("fresh")
    expect(page.locator(".reply__text")).to_have_text("A fresh answer.")

    page.reload()

    expect(page.locator(".bubble--user")).to_have_text("Plan the launch")
    expect(page.locator(".reply__text")).to_have_text("A fresh answer.")
    expect(page.get_by_text("1 message", exact=True)).to_be_visible()

    page.get_by_text("Clear history").click()
    page.get_by_role("button", name="Delete 1 message").click()

    expect(page.get_by_text("Removed 1 message from this chat.")).to_be_visible()
    expect(page.get_by_text("What are you planning?")).to_be_visible()
    page.reload()
    expect(page.locator(".exchange")).to_have_count(0)


def test_a_reload_during_a_reply_shows_it_so_far_and_keeps_receiving(page, log_in, fake_model, release):
    fake_model.script(Reply(["Before the reload", ", after it."], hold=release, hold_after=1))
    log_in(UserFactory())
    page.goto("/chat/")
    composer(page).fill("Hello")
    composer(page).press("Enter")
    expect(page.locator(".reply__text--streaming")).to_have_text("Before the reload")

    page.reload()
    expect(page.locator(".reply__text--streaming")).to_have_text("Before the reload")
    second_tab = page.context.new_page()
    second_tab.goto("/chat/")
    expect(second_tab.locator(".reply__text--streaming")).to_have_text("Before the reload")
    release.set()

    expect(page.locator(".reply--complete .reply__text")).to_have_text("Before the reload, after it.")
    expect(second_tab.locator(".reply--complete .reply__text")).to_have_text("Before the reload, after it.")


def test_a_failure_keeps_the_message_explains_and_offers_retry(page, log_in, fake_gemini):
    fake_gemini.script(Failure(429, retry_delay="45s"), Reply(["Back in business."]))
    log_in(UserFactory())
    page.goto("/chat/")

    composer(page).fill("Are you there?")
    page.get_by_role("button", name="Send message").click()

    expect(page.get_by_text("Rate limited")).to_be_visible()
    expect(page.get_by_text("Try again in 45 seconds.")).to_be_visible()
    expect(page.locator(".bubble--user")).to_have_text("Are you there?")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".reply__text")).to_have_text("Back in business.")


def test_a_server_error_keeps_the_message_and_retry_gets_the_reply(page, log_in, fake_model):
    # Three 500s: the first try and both retries before the first token.
    fake_model.script(Failure(500), Failure(500), Failure(500), Reply(["Back in business."]))
    log_in(UserFactory())
    page.goto("/chat/")

    composer(page).fill("Are you there?")
    composer(page).press("Enter")

    expect(page.get_by_text("Assistant unreachable")).to_be_visible()
    expect(page.get_by_text("server error 500")).to_be_visible()
    expect(page.locator(".bubble--user")).to_have_text("Are you there?")
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(".reply__text")).to_have_text("Back in business.")
    expect(page.locator(".reply__model")).to_have_text(f"{get_provider().label}")


def test_hostile_markup_in_a_reply_stays_harmless_text(page, log_in, fake_gemini):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    fake_gemini.script(
        Reply(["<script>alert('s')</script> <img src=x onerror=alert('i')> ", "[click me](javascript:alert('j'))"])
    )
    log_in(UserFactory())
    page.goto("/chat/")

    composer(page).fill("Say something nasty")
    composer(page).press("Enter")

    reply = page.locator(".reply--complete .reply__text")
    expect(reply).to_contain_text("<script>alert('s')</script>")
    expect(reply.locator("script, img, a")).to_have_count(0)
    page.wait_for_timeout(200)
    assert dialogs == []


def test_offline_project_chat_journey(page, log_in):
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Move house")
    TaskFactory(project=project, title="Book the movers", priority="urgent")
    log_in(user)
    page.goto(f"/projects/{project.pk}/chat/")
    expect(page.get_by_text("Offline assistant").first).to_be_visible()

    composer(page).fill("First line")
    composer(page).press("Shift+Enter")
    composer(page).type("What should I do next?")
    expect(composer(page)).to_have_value("First line\nWhat should I do next?")
    composer(page).press("Enter")

    expect(page.locator(".reply--complete .reply__text")).to_contain_text("Suggested next step: Book the movers")
    expect(page.locator(".bubble--user")).to_contain_text("What should I do next?")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy reply").click()
    expect(page.get_by_role("button", name="Copy reply")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").startswith("**Suggested next step:** Book the movers")

    page.get_by_role("searchbox").fill("movers")
    expect(page.get_by_text("1 message match")).to_be_visible()
    expect(page.locator("mark").first).to_have_text("movers")

    page.reload()
    expect(page.locator(".reply--complete .reply__text")).to_contain_text("Suggested next step: Book the movers")
    page.goto("/chat/")
    expect(page.locator(".exchange")).to_have_count(0)


def test_sending_from_search_results_returns_to_the_conversation(page, log_in):
    user = UserFactory()
    log_in(user)
    page.goto("/chat/")
    composer(page).fill("Help me plan a new project")
    composer(page).press("Enter")
    expect(page.locator(".reply--complete")).to_have_count(1)

    page.get_by_role("searchbox").fill("nothing like this")
    expect(page.get_by_text("No matches")).to_be_visible()
    composer(page).fill("Which project needs attention first?")
    composer(page).press("Enter")

    expect(page.get_by_role("searchbox")).to_have_value("")
    expect(page.locator(".reply--complete")).to_have_count(2)
    expect(page.get_by_text("No matches")).to_have_count(0)


def test_text_typed_while_a_message_is_on_its_way_stays_in_the_box(page, log_in):
    log_in(UserFactory())
    page.goto("/chat/")
    composer(page).fill("First question")

    # Send, then keep typing before the server has answered.
    page.evaluate(
        """() => {
            document.getElementById("composer").requestSubmit();
            document.getElementById("composer-input").value += " and a follow-up";
        }"""
    )

    expect(page.locator(".bubble--user")).to_have_text("First question")
    expect(composer(page)).to_have_value("and a follow-up")


def test_finished_blocks_render_while_the_reply_is_still_arriving(page, log_in, fake_model, release):
    fake_model.script(Reply(["## The plan\n\nStart with **research**.\n\n", "Then build"], hold=release, hold_after=1))
    log_in(UserFactory())
    page.goto("/chat/")

    composer(page).fill("Plan it")
    composer(page).press("Enter")

    streaming = page.locator(".reply__text--streaming")
    expect(streaming.locator("h2")).to_have_text("The plan")
    expect(streaming.locator("strong")).to_have_text("research")
    assert "**" not in streaming.inner_text()
    release.set()
    expect(page.locator(".reply__text h2")).to_have_text("The plan")
    expect(page.locator(".reply__text")).to_contain_text("Then build")
    expect(page.locator(".reply--pending")).to_have_count(0)


def test_a_dropped_stream_says_reconnecting_and_resumes_without_repeating(
    page, log_in, live_server, fake_gemini, release
):
    from urllib.parse import urlsplit

    from tests.tcp_proxy import TcpProxy

    fake_gemini.script(Reply(["Before the outage.", " After it."], hold=release, hold_after=1))
    log_in(UserFactory())
    server = urlsplit(live_server.url)
    proxy = TcpProxy((server.hostname, server.port))
    try:
        # The same site and session, through a line the test can cut.
        page.goto(f"http://{server.hostname}:{proxy.port}/chat/")
        composer(page).fill("Keep going")
        composer(page).press("Enter")
        expect(page.locator(".reply__text--streaming")).to_have_text("Before the outage.")

        proxy.cut()

        note = page.locator("[data-connection]")
        expect(note).to_be_visible(timeout=5000)
        expect(note.locator("[data-connection-text]")).to_have_text("Reconnecting…")
        release.set()
        proxy.mend()

        expect(page.locator(".reply__text")).to_have_text("Before the outage. After it.", timeout=15_000)
        expect(page.locator(".reply--pending")).to_have_count(0)
    finally:
        proxy.close()


def test_a_half_typed_message_waits_in_its_own_chat_until_sent(page, log_in):
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Apollo")
    log_in(user)
    page.goto("/chat/")
    expect(page.get_by_role("button", name="Send message")).to_be_disabled()  # nothing to send yet
    composer(page).fill("A thought for later")

    page.goto("/projects/")
    page.goto(f"/projects/{project.pk}/chat/")
    expect(composer(page)).to_have_value("")  # another chat keeps its own
    page.goto("/chat/")
    expect(composer(page)).to_have_value("A thought for later")
    expect(page.get_by_role("button", name="Send message")).to_be_enabled()

    composer(page).press("Enter")
    expect(page.locator(".reply--complete")).to_have_count(1)
    page.reload()
    expect(composer(page)).to_have_value("")  # sent: no longer kept
