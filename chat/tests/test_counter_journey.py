"""The composer's character counter counts what the server counts, in a real headless Chromium."""

import pytest
from playwright.sync_api import expect

from chat.models import ChatHistory
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIMIT = ChatHistory.MESSAGE_MAX_LENGTH


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.AI_PROVIDER = "offline"


def composer(page):
    return page.get_by_role("textbox", name="Message")


def test_a_trailing_space_is_not_counted_and_the_server_agrees(page, log_in):
    log_in(UserFactory())
    page.goto("/chat/")
    composer(page).fill("x" * (LIMIT + 999))
    composer(page).press("End")
    page.keyboard.type(" ")
    assert len(composer(page).input_value()) == LIMIT + 1000

    counter = page.locator("[data-count]")
    expect(counter).to_have_text(f"{LIMIT + 999:,} / {LIMIT:,}")
    expect(counter).to_have_class("composer__count is-over")

    composer(page).press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(f"Your message is {LIMIT + 999:,} characters long")
    assert not ChatHistory.objects.exists()


def test_a_message_of_emoji_at_exactly_the_limit_is_counted_so_and_accepted(page, log_in):
    user = UserFactory()
    log_in(user)
    page.goto("/chat/")
    message = "\U0001f600" * LIMIT
    composer(page).fill(f" \n{message} ")

    counter = page.locator("[data-count]")
    expect(counter).to_have_text(f"{LIMIT:,} / {LIMIT:,}")
    expect(counter).to_have_class("composer__count")

    composer(page).press("Enter")
    expect(page.locator(".bubble--user")).to_have_count(1)
    expect(composer(page)).to_have_value("")
    assert ChatHistory.objects.get(user=user).message == message


def test_one_character_over_the_limit_reads_over(page, log_in):
    log_in(UserFactory())
    page.goto("/chat/")
    composer(page).fill("\U0001f600" * (LIMIT + 1))
    expect(page.locator("[data-count]")).to_have_text(f"{LIMIT + 1:,} / {LIMIT:,}")
    expect(page.locator("[data-count]")).to_have_class("composer__count is-over")
