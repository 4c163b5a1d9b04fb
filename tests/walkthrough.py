"""A walk through every main page in a browser: an account with something on each, and the pages' paths.

The browser journeys that check every page (no sideways scroll on phones,
no accessibility violation) walk the same account through the same pages.
"""

import datetime
import re
from urllib.parse import urlparse

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import ApiToken
from chat.models import ChatHistory
from projects.models import Priority, Task
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory

SIGNED_OUT_PAGES = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]

# A reply with a table wider than a phone, a list and a long code line.
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


def a_full_account():
    """A user with something on every page, and long words where they hurt most.

    Tasks in every state, overdue and due soon; chats with finished, cut and
    failed replies, two tables in the planning chat (each scrolls in a wrapper of
    its own, on one page); an assistant answer with a link; an API token.
    """
    user = UserFactory(name="Grace Hopper")
    project = ProjectFactory(
        owner=user,
        name="Spring garden club newsletter and the neighbourhood seed swap",
        description="Four pages, printed for the swap: https://example.com/spring/newsletter/issue-one-draft-final",
    )
    today = timezone.localdate()
    TaskFactory(
        project=project,
        title="Collect members' garden photos",
        priority=Priority.HIGH,
        due_date=today + datetime.timedelta(days=3),
    )
    TaskFactory(
        project=project,
        title="Chase https://example.com/printers/quotes/for-the-four-page-issue",
        status=Task.Status.IN_PROGRESS,
        priority=Priority.LOW,
    )
    TaskFactory(project=project, title="Write the seed-swap article", due_date=today - datetime.timedelta(days=2))
    TaskFactory(project=project, title="Choose a date", status=Task.Status.DONE, completed_at=timezone.now())
    ChatHistoryFactory(
        user=user,
        project=project,
        message="What is left before we print?",
        response="Two tasks: the photos and the printer's quote at https://example.com/printers/quotes/for-the-four-page-issue.",
    )
    ChatHistoryFactory(user=user, project=project, message="Plan the launch party", response=PLAN_WITH_A_TABLE)
    ChatHistoryFactory(user=user, message="Help me plan a new project", response="Tell me the goal and the date.")
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
    ChatHistoryFactory(
        user=user,
        chat_type=ChatHistory.ChatType.NAVIGATION,
        message="Where do I change my password?",
        response="On [Change password](/accounts/password/change/).",
    )
    ApiToken.issue(user=user, name="Phone shortcuts for the garden club")
    return user, project


def a_draft_started(page) -> str:
    """Start a new-project draft as anyone does (the offline assistant answers); its page's path."""
    page.goto("/projects/new/")
    page.get_by_label("What do you want to build?").fill("A community garden called Green Patch by the end of May.")
    page.get_by_role("button", name="Start planning").click()
    page.wait_for_url(re.compile(r"/projects/drafts/\w+/$"))
    expect(page.locator(".reply--complete")).to_have_count(1)
    return urlparse(page.url).path


def signed_in_pages(project, draft: str) -> list[str]:
    """Every main page of a signed-in user, for ``project`` and the draft at ``draft``."""
    return [
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
    ]


def list_view_shown(page, project) -> None:
    """The project page in its list view (the board is its first view)."""
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("button", name="List").click()
    expect(page.locator("#task-region.task-region--list:not(.htmx-settling)")).to_be_visible()
