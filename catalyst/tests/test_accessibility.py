"""axe-core finds nothing on any main page, signed out and in, light and dark, desktop and phone,
in a real Chromium; and text on a gradient, which axe cannot measure, is measured here."""

import datetime
import os
import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ApiToken
from chat.models import ChatHistory
from projects.models import Priority, Task
from tests.accessibility import AXE_SCRIPT, axe_report, axe_violations, gradient_text_contrasts
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCHEMES = ["light", "dark"]
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 760}}

PLAN_WITH_A_TABLE = """Here is the plan for the launch:

| Week | Work | Owner | Due | Budget | Venue |
| --- | :--- | --- | --- | ---: | --- |
| 1 | Book the venue and the caterers for the evening | Ada Lovelace | 2 March | £1,200 | Conway Hall, Red Lion Square |
| 2 | Print the posters, the tickets and the programme | Grace Hopper | 9 March | £450 | Printers on Holloway Road |
| 3 | Rehearse the talks | Linus Torvalds | 16 March | £0 | Conway Hall, Red Lion Square |

Next steps:

1. Confirm the venue.
2. Send the invitations.

```
make launch VENUE="Conway Hall, Red Lion Square" DATE=2026-03-16 GUESTS=120 CATERING=vegetarian
```
"""


@pytest.fixture
def axe(chromium_path):
    """axe-core's script, installed by ``npm ci``; skipped (or failed, in CI) when absent."""
    if not AXE_SCRIPT.is_file():
        message = "axe-core is not installed: the accessibility journeys need npm (`make setup` runs `npm ci`)."
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return axe_violations


def an_account_with_everything():
    """A user with tasks in every state, chats with finished, cut and failed replies, and an API token.

    The planning chat holds two tables: each scrolls in a wrapper of its own, on one page.
    """
    user = UserFactory(name="Ada Lovelace")
    project = ProjectFactory(owner=user, name="Analytical engine launch", description="The public demonstration.")
    today = timezone.localdate()
    TaskFactory(
        project=project, title="Book the venue", priority=Priority.HIGH, due_date=today + datetime.timedelta(days=3)
    )
    TaskFactory(project=project, title="Print the posters", due_date=today - datetime.timedelta(days=2))
    TaskFactory(project=project, title="Write the talk", status=Task.Status.IN_PROGRESS, priority=Priority.LOW)
    TaskFactory(project=project, title="Choose a date", status=Task.Status.DONE, completed_at=timezone.now())
    ChatHistoryFactory(user=user, message="Plan the launch for me", response=PLAN_WITH_A_TABLE)
    ChatHistoryFactory(
        user=user,
        message="Who comes?",
        response="| Guest | Table |\n| --- | --- |\n| Charles Babbage | 1 |\n| Mary Somerville | 2 |\n\nAll confirmed.",
    )
    ChatHistoryFactory(
        user=user,
        message="And the budget?",
        response="The venue costs",
        status=ChatHistory.Status.INTERRUPTED,
        error_kind=ChatHistory.ErrorKind.CUT,
    )
    ChatHistoryFactory(
        user=user,
        message="Who should speak?",
        response="",
        status=ChatHistory.Status.FAILED,
        error_kind=ChatHistory.ErrorKind.UNAVAILABLE,
    )
    ChatHistoryFactory(user=user, project=project, message="What is left?", response=PLAN_WITH_A_TABLE)
    ChatHistoryFactory(
        user=user,
        chat_type=ChatHistory.ChatType.NAVIGATION,
        message="Where do I change my password?",
        response="On [Change password](/accounts/password/change/).",
    )
    ApiToken.issue(user=user, name="Shortcuts on the phone")
    return user, project


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
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        page.goto(path)
        checked(page, axe, found, path)

    assert not found, f"axe-core violations ({scheme}, {screen}):\n{axe_report(found)}"


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_signed_in_pages_have_no_accessibility_violations(axe, page, log_in, quick_chat, scheme, screen):
    user, project = an_account_with_everything()
    page.emulate_media(color_scheme=scheme)
    page.set_viewport_size(SCREENS[screen])
    log_in(user)
    # A draft, started as anyone starts one (the offline assistant answers).
    page.goto("/projects/new/")
    page.get_by_label("What do you want to build?").fill("A community garden called Green Patch by the end of May.")
    page.get_by_role("button", name="Start planning").click()
    page.wait_for_url(re.compile(r"/projects/drafts/\w+/$"))
    draft = urlparse(page.url).path
    expect(page.locator(".reply--complete")).to_have_count(1)
    found: dict = {}

    for path in [
        "/",
        "/projects/",
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/edit/",
        "/projects/new/",
        "/projects/new/blank/",
        draft,
        "/chat/",
        f"/projects/{project.pk}/chat/",
        "/chat/assistant/",
        "/accounts/profile/",
        "/accounts/password/change/",
    ]:
        page.goto(path)
        checked(page, axe, found, path)

    # The project page's list view.
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("button", name="List").click()
    expect(page.locator("#task-region.task-region--list:not(.htmx-settling)")).to_be_visible()
    checked(page, axe, found, "project list view")

    # The assistant's panel, open over a page.
    page.goto("/projects/")
    page.get_by_role("button", name="Assistant", exact=True).click()
    expect(page.get_by_role("complementary", name="Assistant").get_by_role("textbox", name="Message")).to_be_visible()
    checked(page, axe, found, "assistant panel")

    assert not found, f"axe-core violations ({scheme}, {screen}):\n{axe_report(found)}"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_text_on_a_gradient_has_enough_contrast_all_along_it(page, log_in, scheme):
    user, _ = an_account_with_everything()
    page.emulate_media(color_scheme=scheme)
    log_in(user)
    measured = {}
    for path in ("/", "/chat/"):
        page.goto(path)
        measured.update({f"{path} {text!r}": round(ratio, 2) for text, ratio in gradient_text_contrasts(page)})

    assert any("Describe your goal" in where for where in measured), measured  # the primary quick action
    assert {where: ratio for where, ratio in measured.items() if ratio < 4.5} == {}
