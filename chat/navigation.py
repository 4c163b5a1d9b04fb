"""What the navigation assistant knows: the site's pages, the user's own data, and which links may show.

The model (or the offline assistant) is given a map of the pages and a
bounded summary of the user's projects and open tasks; its answers link to
them. ``SiteLinks`` decides which of those links a page may show: only this
site's own pages, and only the user's own objects.
"""

import datetime
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from django.urls import Resolver404, resolve, reverse

from chat.providers.base import ProjectFacts, SitePage, TaskFacts
from projects.models import Project, ProjectDraft, Task

#: Projects, and open tasks across them, that the summary may hold.
PROJECT_LIMIT = 40
DATED_TASK_LIMIT = 120
UNDATED_TASK_LIMIT = 40
#: Tasks, done ones too, of the project on the page the question was asked from.
HERE_TASK_LIMIT = 100
#: The summary as the model reads it never grows past this many characters.
SUMMARY_MAX_CHARS = 12_000


def site_pages(user) -> tuple[SitePage, ...]:
    """The pages a signed-in user can go to, with what each is for."""
    pages = [
        SitePage(
            "Dashboard",
            reverse("projects:dashboard"),
            "Tasks that are overdue or due soon across every project, recent projects and quick actions.",
            ("dashboard", "home", "overview", "start", "today"),
        ),
        SitePage(
            "Projects",
            reverse("projects:list"),
            "Every project, with search and filters by status; archived projects are listed there too.",
            ("projects", "list", "all", "archived", "archive", "find", "search"),
        ),
        SitePage(
            "New project",
            reverse("projects:new"),
            "Start a project by describing it to the assistant: a draft of the project and its tasks fills in "
            "as you talk; edit it and press Create project. Drafts in progress are listed there too.",
            ("new", "create", "start", "draft", "drafts", "add"),
        ),
        SitePage(
            "Blank project form",
            reverse("projects:create"),
            "Create a project by filling in its name, dates, status and priority yourself.",
            ("blank", "form", "manual", "manually"),
        ),
        SitePage(
            "Planning chat",
            reverse("chat:planning"),
            "Plan anything with the assistant across projects. Each project also has its own planning chat, "
            "where the assistant can suggest changes and break tasks down. Export and Clear are in its header.",
            ("plan", "planning", "chat", "brainstorm", "export", "conversation"),
        ),
        SitePage(
            "Profile & API tokens",
            reverse("accounts:profile"),
            "Your name and email, and API tokens for other clients: name a token and press Create; it is shown "
            "once, so copy it then. Revoke a token there when it is no longer needed.",
            ("profile", "name", "email", "api", "token", "tokens", "key", "keys", "account", "revoke"),
        ),
        SitePage(
            "Change password",
            reverse("accounts:password-change"),
            "Change your password: the current one, then the new one twice. Also in the account menu, top right.",
            ("password", "passwords", "security"),
        ),
    ]
    if user.is_staff:
        pages.append(
            SitePage(
                "Admin",
                reverse("admin:index"),
                "Staff administration: users, projects, tasks and chat histories.",
                ("admin", "administration", "staff", "users", "histories"),
            )
        )
    return tuple(pages)


#: Said to the model after the page map: the pages of one project, and how a task is linked to.
PROJECT_PAGES = (
    "Each project has: its board at /projects/<id>/ (tasks as a board or a list; add, edit, move and finish "
    "tasks), its settings at /projects/<id>/edit/ (rename, dates, status; archive or delete), and its "
    "planning chat at /projects/<id>/chat/. A task is linked as /projects/<project id>/#task-<task id>. "
    "Log out is in the account menu, top right; the assistant opens from the header on every page."
)


# --- The user's data, bounded -----------------------------------------------------


def task_facts(task: Task, **extra) -> TaskFacts:
    """A task as the assistant is told of it; ``extra`` adds what a chat needs (its ``url``)."""
    return TaskFacts(
        title=task.title,
        status=task.status,
        status_label=task.get_status_display(),
        priority=task.priority,
        due_date=task.due_date,
        estimate_hours=float(task.estimate_hours) if task.estimate_hours is not None else None,
        is_overdue=task.is_overdue,
        id=str(task.pk),
        description=task.description,
        **extra,
    )


def _task_facts(task: Task, project: Project) -> TaskFacts:
    return task_facts(task, url=task_url(project.pk, task.pk), project_name=project.name)


def task_url(project_pk, task_pk) -> str:
    return f"{reverse('projects:detail', args=[project_pk])}#task-{task_pk}"


def _project_facts(project: Project, tasks: Iterable[TaskFacts] = ()) -> ProjectFacts:
    return ProjectFacts(
        name=project.name,
        status=project.status,
        priority=project.priority,
        description=project.description[:300],
        start_date=project.start_date,
        due_date=project.due_date,
        tasks=tuple(tasks),
        id=str(project.pk),
        url=project.get_absolute_url(),
        archived=project.is_archived,
    )


def user_projects(user) -> tuple[ProjectFacts, ...]:
    """The user's most recently updated projects, each with open tasks: overdue and soonest due first.

    Three queries whatever the user holds, and never more than the limits.
    """
    projects = list(Project.objects.owned_by(user).order_by("-updated_at")[:PROJECT_LIMIT])
    active = [project for project in projects if not project.is_archived]
    open_tasks = Task.objects.in_projects(active).open().order_by()
    dated = open_tasks.filter(due_date__isnull=False).by_due_date()[:DATED_TASK_LIMIT]
    undated = open_tasks.filter(due_date__isnull=True).order_by("-updated_at")[:UNDATED_TASK_LIMIT]
    by_project: dict = {}
    for task in [*dated, *undated]:
        by_project.setdefault(task.project_id, []).append(task)
    return tuple(
        _project_facts(project, (_task_facts(task, project) for task in by_project.get(project.pk, ())))
        for project in projects
    )


def project_on_page(user, page: str) -> Project | None:
    """The user's project that the page at ``page`` (a path) is about; None for any other page."""
    pk = _project_key(page)
    return None if pk is None else Project.objects.owned_by(user).filter(pk=pk).first()


def project_here(user, page: str) -> ProjectFacts | None:
    """``project_on_page`` with its tasks, as the assistant is told of it."""
    project = project_on_page(user, page)
    if project is None:
        return None
    tasks = project.tasks.all()[:HERE_TASK_LIMIT]
    return _project_facts(project, (_task_facts(task, project) for task in tasks))


#: Pages that are about one project, by URL name.
_PROJECT_PAGES = {"projects:detail", "projects:edit", "project-chat:page"}


def _project_key(page: str):
    match = _resolve(page)
    if match is None or match.view_name not in _PROJECT_PAGES:
        return None
    try:
        return Project._meta.pk.to_python(match.kwargs["pk"])
    except Exception:  # any malformed key is simply no project
        return None


def _resolve(path: str):
    """The URL pattern a path on this site matches (its query and fragment aside), or None."""
    if not path.startswith("/") or path.startswith("//"):
        return None
    try:
        return resolve(urlsplit(path).path)
    except Resolver404:
        return None


def summary_for_model(
    projects: tuple[ProjectFacts, ...],
    pages: tuple[SitePage, ...],
    *,
    today: datetime.date,
    here: ProjectFacts | None = None,
    page: str = "",
    limit: int = SUMMARY_MAX_CHARS,
) -> str:
    """The page map, where the user is, and their data as the model reads them: at most ``limit`` characters.

    What matters most comes first (the pages, then the project on screen,
    within half the limit), and the list of projects is cut where the limit falls.
    """
    summary = _Summary(limit)
    summary.add("The site's pages (link to them by these paths):")
    for site_page in pages:
        summary.add(f"- [{site_page.title}]({site_page.url}): {site_page.about}")
    summary.add(PROJECT_PAGES)
    if here is not None:
        summary.add(f"\nThe user is on the page of the project [{here.name}]({here.url}); ", '"here" means it.')
        summary.add(f"Its tasks ({len(here.tasks)}):")
        shown = summary.add_all((f"- {_task_line(task)}" for task in here.tasks), within=limit // 2)
        if shown < len(here.tasks):
            summary.add(f"(and {len(here.tasks) - shown} more on its board)")
    elif page:
        summary.add(f"\nThe user is on the page {page[:200]}.")
    summary.add(f"\nThe user's projects (today is {today.isoformat()}):")
    if not projects:
        summary.add("- none yet")
    for index, project in enumerate(projects):
        lines = [_project_line(project)] + [f"  - {_task_line(task)}" for task in project.tasks]
        if summary.add_all(lines) < len(lines):
            summary.add(f"(The list stops here: {len(projects) - index - 1} more project(s) are on the Projects page.)")
            break
    return summary.text()


class _Summary:
    """Lines added while they fit in ``limit`` characters, keeping a little room for a closing note."""

    ROOM = 120

    def __init__(self, limit: int):
        self.limit = limit
        self.lines: list[str] = []
        self.size = 0

    def add(self, *parts: str) -> None:
        line = "".join(parts)
        if self.size + len(line) + 1 <= self.limit:
            self.lines.append(line)
            self.size += len(line) + 1

    def add_all(self, lines, *, within: int | None = None) -> int:
        """Add lines in order while they fit (in ``within`` if given); how many were added."""
        bound = min(within or self.limit, self.limit) - self.ROOM
        added = 0
        for line in lines:
            if self.size + len(line) + 1 > bound:
                break
            self.lines.append(line)
            self.size += len(line) + 1
            added += 1
        return added

    def text(self) -> str:
        return "\n".join(self.lines)


def _project_line(project: ProjectFacts) -> str:
    bits = [project.status.replace("-", " ")]
    if project.archived:
        bits.append("archived")
    if project.due_date:
        bits.append(f"due {project.due_date.isoformat()}")
    return f"- [{project.name}]({project.url}) ({', '.join(bits)}); open tasks:" + ("" if project.tasks else " none")


def _task_line(task: TaskFacts) -> str:
    bits = [task.status_label, f"{task.priority} priority"]
    if task.due_date:
        bits.append(f"due {task.due_date.isoformat()}")
    if task.is_overdue:
        bits.append("OVERDUE")
    return f"[{task.title}]({task.url}) ({', '.join(bits)})"


# --- Which links an answer may show -----------------------------------------------

#: Pages a navigation answer may link to, by URL name; each with a key checks it is the user's.
_LINKABLE = {
    "projects:dashboard": None,
    "projects:list": None,
    "projects:new": None,
    "projects:create": None,
    "projects:detail": "project",
    "projects:edit": "project",
    "project-chat:page": "project",
    "projects:draft": "draft",
    "chat:planning": None,
    "accounts:profile": None,
    "accounts:password-change": None,
}
_FRAGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class SiteLinks:
    """Resolves the links in a navigation answer: this site's pages and the user's own objects, or nothing.

    Call it with an ``href``: it returns the link to show (a path on this
    site) or None. The keys of the user's projects and drafts are read once,
    on the first link that needs them: a page costs at most two queries
    however many answers and links it shows.
    """

    def __init__(self, user, *, host: str = ""):
        self.user = user
        self.host = host.lower()
        self._owned: dict[str, set] = {}

    def __call__(self, href: str) -> str | None:
        parts = urlsplit((href or "").strip())
        outside = parts.scheme not in {"http", "https"} or not self.host or parts.netloc.lower() != self.host
        if (parts.scheme or parts.netloc) and outside:
            return None
        path = parts.path
        match = _resolve(path)
        if match is None and path and not path.endswith("/"):
            path += "/"
            match = _resolve(path)
        if match is None or not self._allowed(match):
            return None
        fragment = parts.fragment if _FRAGMENT.fullmatch(parts.fragment or "") else ""
        return urlunsplit(("", "", path, parts.query, fragment))

    def _allowed(self, match) -> bool:
        if match.view_name == "admin:index":
            return self.user.is_staff
        if match.view_name not in _LINKABLE:
            return False
        kind = _LINKABLE[match.view_name]
        if kind is None:
            return True
        model = Project if kind == "project" else ProjectDraft
        try:
            key = model._meta.pk.to_python(match.kwargs["pk"])
        except Exception:  # a malformed key is no object of theirs
            return False
        return key in self._owned_keys(kind, model)

    def load(self) -> "SiteLinks":
        """Read the keys of the user's projects and drafts now (before links are resolved where no query may run)."""
        self._owned_keys("project", Project)
        self._owned_keys("draft", ProjectDraft)
        return self

    def _owned_keys(self, kind: str, model) -> set:
        if kind not in self._owned:
            self._owned[kind] = set(model.objects.owned_by(self.user).values_list("pk", flat=True))
        return self._owned[kind]


def site_links_for(request) -> SiteLinks:
    """The request's ``SiteLinks`` (one per request, so a page reads the user's keys once)."""
    links = getattr(request, "_site_links", None)
    if links is None:
        links = request._site_links = SiteLinks(request.user, host=request.get_host())
    return links
