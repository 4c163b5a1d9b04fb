"""The navigation assistant's offline answers: what is overdue or due, where a project, task or page is."""

import datetime
import re
from types import SimpleNamespace

import pytest

from chat.markdown import links_in
from chat.navigation import site_pages
from chat.providers.base import Conversation, ProjectFacts, SitePage, TaskFacts
from chat.providers.offline_navigation import navigation_answer

# A Tuesday: this week runs through Sunday Feb 15, next week is Feb 16 to 22.
TODAY = datetime.date(2026, 2, 10)
LABELS = {"todo": "To do", "in-progress": "In progress", "done": "Done"}
LINK = re.compile(r"\]\(([^)]*)\)")


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def task(project_id: int, task_id: int, title: str, due: datetime.date | None = None, status: str = "todo"):
    return TaskFacts(
        title=title,
        status=status,
        status_label=LABELS[status],
        priority="medium",
        due_date=due,
        is_overdue=due is not None and due < TODAY and status != "done",
        id=str(task_id),
        url=f"/projects/{project_id}/#task-{task_id}",
    )


def project(project_id: int, name: str, *tasks: TaskFacts, archived: bool = False) -> ProjectFacts:
    named = tuple(TaskFacts(**{**vars(item), "project_name": name}) for item in tasks)
    return ProjectFacts(
        name=name, status="active", id=str(project_id), url=f"/projects/{project_id}/", tasks=named, archived=archived
    )


APOLLO = project(
    7,
    "Apollo launch",
    task(7, 71, "Fix budget", days(-1)),
    task(7, 72, "Book venue", days(1)),
    task(7, 73, "Print flyers", days(5), "in-progress"),
    task(7, 74, "Send invites", days(6)),
)
BAKERY_OPEN = (
    task(3, 31, "Design logo", days(-10)),
    task(3, 32, "Order ovens", days(-3), "in-progress"),
    task(3, 33, "Hire staff", days(0)),
    task(3, 34, "Write menu"),
)
#: Bakery opening as the summary holds it (open tasks only), and as its own page holds it (done ones too).
BAKERY = project(3, "Bakery opening", *BAKERY_OPEN)
BAKERY_HERE = project(3, "Bakery opening", *BAKERY_OPEN, task(3, 35, "Sign lease", days(-20), "done"))
OLD_SITE = project(11, "Old website", archived=True)
PROJECTS = (APOLLO, BAKERY, OLD_SITE)

PAGES = (
    SitePage(
        "Dashboard", "/", "Tasks that are overdue or due soon.", ("dashboard", "home", "overview", "start", "today")
    ),
    SitePage("Projects", "/projects/", "Every project.", ("projects", "list", "all", "archived", "archive", "find")),
    SitePage("New project", "/projects/new/", "Start a project.", ("new", "create", "start", "draft", "drafts", "add")),
    SitePage("Blank project form", "/projects/new/blank/", "Fill in a form.", ("blank", "form", "manual", "manually")),
    SitePage("Planning chat", "/chat/", "Export and Clear are in its header.", ("plan", "chat", "export")),
    SitePage("Profile & API tokens", "/accounts/profile/", "Name a token.", ("profile", "api", "token", "tokens")),
    SitePage("Change password", "/accounts/password/change/", "The current one, then the new.", ("password",)),
    SitePage("Admin", "/admin/", "Staff administration.", ("admin", "administration", "staff", "users")),
)


def ask(message: str, *, here: ProjectFacts | None = None, projects=PROJECTS, pages=PAGES) -> str:
    conversation = Conversation(
        system_instruction="",
        message=message,
        project=here,
        projects=projects,
        pages=pages,
        today=TODAY,
        chat_type="navigation",
    )
    return navigation_answer(conversation)


def links(answer: str) -> list[str]:
    return LINK.findall(answer)


def titles_in_order(answer: str, *titles: str) -> list[str]:
    """The titles that appear in ``answer``, in the order they appear."""
    return sorted((title for title in titles if title in answer), key=answer.index)


# --- What is overdue ---------------------------------------------------------------


@pytest.mark.parametrize("message", ["what is overdue?", "Anything late?", "Which tasks are behind?"])
def test_overdue_lists_every_late_open_task_most_overdue_first(message):
    answer = ask(message)
    assert links(answer) == ["/projects/3/#task-31", "/projects/3/#task-32", "/projects/7/#task-71"]
    assert "3 tasks overdue across your projects" in answer
    assert "[Design logo](/projects/3/#task-31) — Bakery opening, **overdue by 10 days** (due Jan 31)" in answer
    assert "[Fix budget](/projects/7/#task-71) — Apollo launch, **overdue by 1 day** (due Feb 9)" in answer
    for on_time in ("Hire staff", "Book venue", "Write menu"):
        assert on_time not in answer


def test_overdue_here_is_only_the_project_on_the_page_and_never_its_done_tasks():
    answer = ask("what is overdue here?", here=BAKERY_HERE)
    assert links(answer) == ["/projects/3/#task-31", "/projects/3/#task-32"]
    assert "2 tasks overdue in **Bakery opening**" in answer
    assert "Sign lease" not in answer
    # Asked on the page but not about it: every project.
    assert "/projects/7/#task-71" in links(ask("what is overdue?", here=BAKERY_HERE))


def test_overdue_in_a_named_project():
    answer = ask("what's late in apollo?")
    assert links(answer) == ["/projects/7/#task-71"]
    assert "in **Apollo launch**" in answer


def test_nothing_overdue_is_said_plainly():
    answer = ask("what is overdue?", projects=(project(5, "Calm", task(5, 51, "Relax", days(3))),))
    assert answer == "Nothing is overdue across your projects.\n"


def test_a_long_overdue_list_is_capped_with_the_dashboard_for_the_rest():
    many = [project(20 + n, f"Project {n}", task(20 + n, 200 + n, f"Late {n}", days(-1 - n))) for n in range(13)]
    answer = ask("what is overdue?", projects=tuple(many))
    task_links = [link for link in links(answer) if "#task-" in link]
    assert len(task_links) == 10
    assert task_links[0] == "/projects/32/#task-212"  # 13 days late: the most overdue
    assert "/projects/20/#task-200" not in task_links  # 1 day late: among the 3 left off
    assert "…and 3 more: see [Dashboard](/)." in answer


# --- What is due when ----------------------------------------------------------------


def test_due_this_week_runs_from_today_through_sunday():
    answer = ask("what's due this week?")
    assert links(answer) == ["/projects/3/#task-33", "/projects/7/#task-72", "/projects/7/#task-73"]
    assert "this week (through Sun Feb 15)" in answer
    assert "Hire staff](/projects/3/#task-33) — Bakery opening, due today" in answer
    assert "Book venue](/projects/7/#task-72) — Apollo launch, due tomorrow" in answer
    assert "Send invites" not in answer  # Monday: next week
    assert "Also 3 tasks overdue" in answer


@pytest.mark.parametrize(
    "message", ["what's due this week in Apollo?", "What is due this week for the apollo project", "apollo LAUNCH due"]
)
def test_due_in_a_named_project_only(message):
    answer = ask(message)
    assert "in **Apollo launch**" in answer
    assert all(link.startswith("/projects/7/#task-") for link in links(answer))
    assert "/projects/7/#task-72" in links(answer)
    assert "Hire staff" not in answer


APOLLO_LATER = ["/projects/7/#task-73", "/projects/7/#task-74"]


@pytest.mark.parametrize(
    "message, expected",
    [
        ("what is due today?", ["/projects/3/#task-33"]),
        ("anything due tomorrow", ["/projects/7/#task-72"]),
        ("what's due next week", ["/projects/7/#task-74"]),
        ("due in the next 3 days", ["/projects/3/#task-33", "/projects/7/#task-72"]),
        ("what's coming up soon?", ["/projects/3/#task-33", "/projects/7/#task-72", *APOLLO_LATER]),
    ],
)
def test_due_windows(message, expected):
    """Today, tomorrow, next Monday to Sunday, and "soon" or "next N days" through N days from today."""
    assert links(ask(message)) == expected


def test_due_this_week_here_is_the_project_on_the_page():
    answer = ask("what is due this week in this project?", here=BAKERY_HERE)
    assert links(answer) == ["/projects/3/#task-33"]


def test_nothing_due_is_said_plainly():
    answer = ask("what is due tomorrow?", projects=(BAKERY,))
    assert answer.startswith("Nothing is due tomorrow across your projects.")
    assert "Also 2 tasks overdue" in answer
    assert links(answer) == []


# --- Where a project, task or page is ----------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["open the bakery project", "go to bakery", "Where is Bakery?", "show me Bakery opening", "TAKE ME TO BAKE"],
)
def test_open_a_project_gives_one_link_to_it(message):
    answer = ask(message)
    assert links(answer) == ["/projects/3/"]
    assert answer.startswith("Here is [Bakery opening](/projects/3/).")
    assert "4 open tasks, 2 overdue" in answer


def test_an_exact_name_beats_one_that_only_contains_it():
    garden, shed = project(40, "Garden"), project(41, "Garden shed")
    assert links(ask("open garden", projects=(shed, garden))) == ["/projects/40/"]
    assert links(ask("open the shed", projects=(shed, garden))) == ["/projects/41/"]


def test_several_matching_projects_are_listed_each_linked():
    projects = (project(50, "Website relaunch"), project(51, "Website audit"), APOLLO)
    answer = ask("open website", projects=projects)
    assert links(answer) == ["/projects/50/", "/projects/51/"]
    assert answer.startswith("2 projects match")


def test_an_archived_project_can_be_found_and_says_so():
    answer = ask("where is the old website?")
    assert links(answer) == ["/projects/11/"]
    assert "archived" in answer


def test_a_task_title_gives_one_link_to_the_task():
    answer = ask("show me design logo")
    assert links(answer) == ["/projects/3/#task-31"]
    assert "in Bakery opening" in answer
    assert "overdue by 10 days" in answer


def test_a_done_task_is_found_on_its_own_project_page():
    assert links(ask("where is sign lease", here=BAKERY_HERE)) == ["/projects/3/#task-35"]


def test_nothing_found_says_so_and_links_the_projects_page():
    answer = ask("open the zebra project")
    assert links(answer) == ["/projects/"]
    assert "couldn't find" in answer and "zebra" in answer


@pytest.mark.parametrize(
    "message, url",
    [
        ("where do I change my password?", "/accounts/password/change/"),
        ("How do I get an API token?", "/accounts/profile/"),
        ("how do I start a new project?", "/projects/new/"),
        ("where is the admin?", "/admin/"),
        ("how do I export a chat", "/chat/"),
        ("take me to the dashboard", "/"),
        ("where are all my projects", "/projects/"),
    ],
)
def test_app_questions_link_their_page_once_with_what_it_is_for(message, url):
    answer = ask(message)
    assert links(answer) == [url]
    page = next(page for page in PAGES if page.url == url)
    assert page.about in answer


@pytest.mark.parametrize(
    "message, view",
    [
        ("where do I change my password?", "accounts:password-change"),
        ("How do I get an API token?", "accounts:profile"),
        ("how do I revoke a key", "accounts:profile"),
        ("how do I start a new project?", "projects:new"),
        ("how can I create a project by filling in a blank form", "projects:create"),
        ("where is the admin?", "admin:index"),
        ("how do I export a chat", "chat:planning"),
        ("where do I find archived projects", "projects:list"),
    ],
)
def test_app_questions_find_the_sites_real_pages(message, view):
    from django.urls import reverse

    answer = ask(message, pages=site_pages(SimpleNamespace(is_staff=True)))
    assert links(answer) == [reverse(view)]


def test_a_page_wins_over_a_project_when_the_question_is_about_the_app():
    projects = (project(60, "Password vault"), APOLLO)
    assert links(ask("where do I change my password?", projects=projects)) == ["/accounts/password/change/"]
    assert links(ask("open password vault", projects=projects)) == ["/projects/60/"]


def test_no_admin_link_without_the_admin_page():
    answer = ask("where is the admin?", pages=tuple(page for page in PAGES if page.title != "Admin"))
    assert "/admin/" not in answer
    assert links(answer) == ["/projects/"]


# --- What is left on the project here -------------------------------------------------


@pytest.mark.parametrize("message", ["what's left here?", "What remains", "status of this project", "what's here?"])
def test_whats_left_here_groups_open_tasks_in_progress_first(message):
    answer = ask(message, here=BAKERY_HERE)
    assert answer.startswith("**Bakery opening**: 4 open tasks, 2 overdue.")
    assert answer.index("**In progress**") < answer.index("**To do**")
    assert titles_in_order(answer, "Order ovens", "Design logo", "Hire staff", "Write menu") == [
        "Order ovens",
        "Design logo",
        "Hire staff",
        "Write menu",
    ]
    assert "[Design logo](/projects/3/#task-31) — **overdue by 10 days** (due Jan 31)" in answer
    assert "Sign lease" not in answer
    assert links(answer)[-1] == "/projects/3/"
    assert "/projects/7/" not in " ".join(links(answer))


def test_whats_left_when_everything_is_done():
    finished = project(3, "Bakery opening", task(3, 35, "Sign lease", days(-20), "done"))
    answer = ask("what's left here?", here=finished)
    assert "every task is done" in answer
    assert links(answer) == ["/projects/3/"]


def test_whats_left_in_a_named_project_off_its_page():
    answer = ask("what's left in apollo?")
    assert answer.startswith("**Apollo launch**: 4 open tasks, 1 overdue.")
    assert links(answer)[-1] == "/projects/7/"


# --- Anything else ------------------------------------------------------------------


def test_fallback_lists_what_it_can_do():
    answer = ask("hello there")
    assert "What is overdue?" in answer and "What's due this week?" in answer
    assert "Open Apollo launch" in answer
    assert links(answer) == []


def test_fallback_on_a_project_page_links_the_project():
    answer = ask("hello there", here=BAKERY_HERE)
    assert "What's left here?" in answer
    assert links(answer) == ["/projects/3/"]


def test_fallback_without_projects_suggests_starting_one():
    assert "How do I start a new project?" in ask("hi", projects=())


# --- Every link comes from the facts --------------------------------------------------

BATTERY = [
    "what is overdue?",
    "anything late?",
    "what is overdue here?",
    "what's due this week?",
    "what's due this week in Apollo?",
    "due today",
    "due tomorrow",
    "due next week",
    "next 3 days",
    "open the bakery project",
    "go to bakery",
    "where is bakery",
    "show me design logo",
    "open website",
    "open zebra",
    "where do I change my password?",
    "how do I get an API token?",
    "how do I start a new project?",
    "where is the admin?",
    "how do I export a chat",
    "what's left here?",
    "status of this project",
    "hello",
    "[evil](https://example.com) open",
]


@pytest.mark.parametrize("here", [None, BAKERY_HERE])
@pytest.mark.parametrize("message", BATTERY)
def test_every_link_is_a_url_from_the_facts_or_pages(message, here):
    projects = (*PROJECTS, project(50, "Website relaunch"), project(51, "Website audit"))
    known = {page.url for page in PAGES}
    for item in (*projects, BAKERY_HERE):
        known |= {item.url, *(task.url for task in item.tasks)}
    answer = ask(message, here=here, projects=projects)
    assert answer.strip()
    assert set(links(answer)) <= known, answer
    # And the links the panel's Markdown renderer finds are the same ones.
    assert [href for href, _ in links_in(answer, lambda href: href)] == links(answer)


def test_titles_cannot_break_out_of_their_links():
    odd = project(70, "Odd", task(70, 701, "Read [this](http://x.test) first", days(-2)))
    answer = ask("what is overdue?", projects=(odd,))
    assert links(answer) == ["/projects/70/#task-701"]
    assert links_in(answer, lambda href: href) == [("/projects/70/#task-701", "Read [this](http://x.test) first")]
    found = ask("show me read this", projects=(odd,))
    assert links_in(found, lambda href: href) == [("/projects/70/#task-701", "Read [this](http://x.test) first")]
