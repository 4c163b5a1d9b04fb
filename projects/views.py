"""Pages for projects and their tasks.

Task changes answer HTMX requests with the task region (board or list) plus
the project's progress bar out of band. A change shows where it happened (the
changed card is highlighted), so it is only said to screen readers, not in a
toast; a toast is kept for what did not visibly change. Without HTMX they
redirect back to the project page (post/redirect/get) with a message.
"""

import datetime
from collections import Counter

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from catalyst.db import all_or_nothing
from catalyst.htmx import HtmxHttpRequest, fragment_or_page, page_redirect, wants_fragment, with_toast
from catalyst.shortcuts import get_or_404
from chat import services as chat_services
from chat.models import ChatHistory
from chat.views import chat_page
from projects import services
from projects.drafts import DraftInvalid, draft_json
from projects.forms import (
    DraftForm,
    DraftTaskFormSet,
    ProjectFilterForm,
    ProjectForm,
    TaskAddForm,
    TaskForm,
    TaskMoveForm,
    TaskStatusForm,
)
from projects.models import Progress, Project, ProjectDraft, Proposal, ProposalChange, Task

DETAIL = "projects/project_detail.html"
TASK_VIEWS = ("board", "list")
DASHBOARD_TASK_LIMIT = 8
DASHBOARD_PROJECT_LIMIT = 8
RECENT_CHAT_LIMIT = 5


def _own_project(request: HttpRequest, pk: str) -> Project:
    return get_or_404(Project.objects.owned_by(request.user), pk)


def _own_task(request: HttpRequest, pk: str, task_pk: str) -> tuple[Project, Task]:
    project = _own_project(request, pk)
    task = get_or_404(Task.objects.filter(project=project), task_pk)
    task.project = project
    return project, task


# --- Dashboard and project pages ---


@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    projects = list(Project.objects.owned_by(request.user))
    current = [project for project in projects if not project.is_archived]
    tasks = Task.objects.in_projects(current)
    overdue = tasks.overdue().by_due_date()[: DASHBOARD_TASK_LIMIT + 1].listed_with(current)
    due_soon = tasks.due_within(7).by_due_date()[: DASHBOARD_TASK_LIMIT + 1].listed_with(current)
    # Planning conversations; the assistant's quick questions are in its panel.
    chats = (
        ChatHistory.objects.owned_by(request.user).planning().newest_first()[:RECENT_CHAT_LIMIT].listed_with(projects)
    )
    now = timezone.now()
    for chat in chats:
        chat.project_name = chat.project.name if chat.project_id else ""
        chat.just_now = now - chat.created_at < datetime.timedelta(minutes=1)
    counts = Counter(project.status for project in current)
    context = {
        "has_projects": bool(projects),
        "status_counts": [(value, label, counts[value]) for value, label in Project.Status.choices],
        "archived_count": len(projects) - len(current),
        "project_rows": Task.objects.progress_of(current),
        "project_limit": DASHBOARD_PROJECT_LIMIT,
        "overdue": overdue[:DASHBOARD_TASK_LIMIT],
        "more_overdue": len(overdue) > DASHBOARD_TASK_LIMIT,
        "due_soon": due_soon[:DASHBOARD_TASK_LIMIT],
        "more_due_soon": len(due_soon) > DASHBOARD_TASK_LIMIT,
        "chats": chats,
    }
    return TemplateResponse(request, "projects/dashboard.html", context)


@require_GET
@fragment_or_page
def project_list(request: HtmxHttpRequest) -> HttpResponse:
    owned = Project.objects.owned_by(request.user)
    form = ProjectFilterForm(request.GET)
    project_rows = Task.objects.progress_of(list(form.filter(owned)))
    filtered = bool(form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["status"]))
    context = {
        "form": form,
        "project_rows": project_rows,
        "filtered": filtered,
        # Only an empty result needs to ask whether the user has any projects at all.
        "has_projects": bool(project_rows) or owned.exists(),
    }
    template = "projects/project_list.html"
    if wants_fragment(request):
        template += "#project-results"
    return TemplateResponse(request, template, context)


def _project_form_response(
    request: HtmxHttpRequest, form: ProjectForm, *, saved_name: str = "", status: int = 200
) -> HttpResponse:
    template = "projects/project_form.html"
    if wants_fragment(request) and request.method == "POST":
        template += "#project-form"
    # The page names the project as stored, not as the rejected input left it.
    context = {"form": form, "project": form.instance, "saved_name": saved_name}
    return TemplateResponse(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@fragment_or_page
def project_create(request: HtmxHttpRequest) -> HttpResponse:
    """The blank-project form."""
    project = Project(owner=request.user)
    if request.method == "GET":
        return _project_form_response(request, ProjectForm(instance=project))
    form = ProjectForm(request.POST, instance=project)
    if not form.is_valid():
        return _project_form_response(request, form, status=422)
    form.save()
    messages.success(request, f"Created “{project.name}”. Add its first tasks.")
    return page_redirect(request, project.get_absolute_url())


@require_http_methods(["GET", "POST"])
@fragment_or_page
def project_edit(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    project = _own_project(request, pk)
    saved_name = project.name
    if request.method == "GET":
        return _project_form_response(request, ProjectForm(instance=project), saved_name=saved_name)
    form = ProjectForm(request.POST, instance=project)
    if not form.is_valid():
        return _project_form_response(request, form, saved_name=saved_name, status=422)
    form.save()
    messages.success(request, f"Saved “{project.name}”.")
    return page_redirect(request, project.get_absolute_url())


@require_POST
def project_archive(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """Archive the project, or restore it when it is archived already."""
    project = _own_project(request, pk)
    if project.is_archived:
        project.restore()
        messages.success(request, f"Restored “{project.name}”.")
        return page_redirect(request, project.get_absolute_url())
    project.archive()
    messages.success(request, f"Archived “{project.name}”. Find it under the Archived filter.")
    return page_redirect(request, reverse("projects:list"))


@require_http_methods(["GET", "POST"])
def project_delete(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """GET asks for confirmation, naming how many tasks go with the project; POST deletes."""
    project = _own_project(request, pk)
    if request.method == "POST":
        name = project.name
        with all_or_nothing():
            project.delete()  # its tasks and its planning chat go with it
        messages.success(request, f"Deleted “{name}” with its tasks and chat.")
        return page_redirect(request, reverse("projects:list"))
    context = {"project": project, "task_count": project.tasks.count(), "chat_count": project.chats.count()}
    return TemplateResponse(request, "projects/project_confirm_delete.html", context)


# --- The project page and its tasks ---


def _task_view(request: HttpRequest) -> str:
    view = request.session.get("task_view")
    return view if view in TASK_VIEWS else "board"


def _detail_context(request: HttpRequest, project: Project, **extra) -> dict:
    tasks = list(project.tasks.all())
    statuses = Task.Status.choices
    columns = []
    for index, (value, label) in enumerate(statuses):
        columns.append(
            {
                "status": value,
                "label": label,
                "tasks": [task for task in tasks if task.status == value],
                "previous": statuses[index - 1] if index > 0 else None,
                "next": statuses[index + 1] if index + 1 < len(statuses) else None,
            }
        )
    return {
        "project": project,
        "tasks": tasks,
        "columns": columns,
        "statuses": statuses,
        "progress": Progress.of(task.status for task in tasks),
        "task_view": _task_view(request),
        "add_form": TaskAddForm(prefix="new", keep_typed=True),
        **extra,
    }


@require_GET
def project_detail(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    project = _own_project(request, pk)
    return TemplateResponse(request, DETAIL, _detail_context(request, project))


def _tasks_url(project: Project) -> str:
    return project.get_absolute_url() + "#tasks"


def _task_region(request: HtmxHttpRequest, project: Project, *, status: int = 200, **extra) -> HttpResponse:
    response = TemplateResponse(
        request, f"{DETAIL}#task-response", _detail_context(request, project, **extra), status=status
    )
    # Whatever element asked, the answer replaces the whole task region.
    return reswap(retarget(response, "#task-region"), "outerHTML")


def _task_changed(
    request: HtmxHttpRequest, project: Project, message: str, *, changed: Task | None = None, **extra
) -> HttpResponse:
    """The region after a change the user sees in place: ``changed`` is highlighted, ``message`` announced."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(_tasks_url(project))
    changed_pk = changed.pk if changed is not None else None
    return _task_region(request, project, announcement=message, changed=changed_pk, **extra)


def _task_unchanged(request: HtmxHttpRequest, project: Project, message: str) -> HttpResponse:
    """Nothing moved (already there): with nothing to see, a toast says why."""
    if not request.htmx:
        messages.warning(request, message)
        return redirect(_tasks_url(project))
    return with_toast(_task_region(request, project), message, "warning")


def _task_refused(request: HtmxHttpRequest, project: Project, message: str) -> HttpResponse:
    if request.htmx:
        return with_toast(_task_region(request, project, status=422, region_error=message), message, "error")
    return TemplateResponse(request, DETAIL, _detail_context(request, project, region_error=message), status=422)


@require_GET
@fragment_or_page
def task_region(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """The task region alone, e.g. to cancel an edit; the page itself without HTMX."""
    project = _own_project(request, pk)
    if not request.htmx:
        return redirect(_tasks_url(project))
    return _task_region(request, project)


@require_POST
@fragment_or_page
def task_view(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """Switch between the board and the list, and remember the choice."""
    project = _own_project(request, pk)
    view = request.POST.get("view")
    if view not in TASK_VIEWS:
        return _task_refused(request, project, "Choose the board or the list view.")
    request.session["task_view"] = view
    if not request.htmx:
        return redirect(_tasks_url(project))
    return _task_region(request, project)


@require_POST
@fragment_or_page
def task_create(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    project = _own_project(request, pk)
    form = TaskAddForm(request.POST, prefix="new", instance=Task(project=project))
    if not form.is_valid():
        if request.htmx:
            response = TemplateResponse(
                request, f"{DETAIL}#task-add-form", {"project": project, "add_form": form}, status=422
            )
            return reswap(retarget(response, "#task-add-form"), "outerHTML")
        return TemplateResponse(request, DETAIL, _detail_context(request, project, add_form=form), status=422)
    task = form.save(commit=False)
    task.save_at_end()
    project.touch()
    # A fresh, empty form for the next task rather than the one just sent.
    return _task_changed(request, project, f"Added “{task.title}”.", changed=task, add_form=TaskAddForm(prefix="new"))


@require_http_methods(["GET", "POST"])
@fragment_or_page
def task_edit(request: HtmxHttpRequest, pk: str, task_pk: str) -> HttpResponse:
    """Edit a task in place: GET swaps its form in, POST saves it."""
    project, task = _own_task(request, pk, task_pk)
    prefix = f"task-{task.pk}"
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, instance=task, prefix=prefix)
        if form.is_valid():
            form.save()
            project.touch()
            return _task_changed(request, project, f"Saved “{task.title}”.", changed=task)
        status = 422
    else:
        form = TaskForm(instance=task, prefix=prefix)
        form.fields["title"].widget.attrs["autofocus"] = True
    if request.htmx:
        context = {"project": project, "task": task, "form": form}
        response = TemplateResponse(request, f"{DETAIL}#task-edit", context, status=status)
        return reswap(retarget(response, f"#task-{task.pk}"), "outerHTML")
    return TemplateResponse(request, DETAIL, _detail_context(request, project, edit_form=form), status=status)


@require_http_methods(["GET", "POST"])
@fragment_or_page
def task_delete(request: HtmxHttpRequest, pk: str, task_pk: str) -> HttpResponse:
    """GET asks for confirmation in place of the task; POST deletes it."""
    project, task = _own_task(request, pk, task_pk)
    if request.method == "POST":
        title = task.title
        task.delete()
        project.touch()
        return _task_changed(request, project, f"Deleted “{title}”.")
    if request.htmx:
        response = TemplateResponse(request, f"{DETAIL}#task-delete", {"project": project, "task": task})
        return reswap(retarget(response, f"#task-{task.pk}"), "outerHTML")
    return TemplateResponse(request, DETAIL, _detail_context(request, project, deleting=task.pk))


@require_POST
@fragment_or_page
def task_status(request: HtmxHttpRequest, pk: str, task_pk: str) -> HttpResponse:
    """Change a task's status in one click; a drag on the board also says where it lands."""
    project, task = _own_task(request, pk, task_pk)
    form = TaskStatusForm(request.POST)
    if not form.is_valid():
        return _task_refused(request, project, "Choose a status: To do, In progress or Done.")
    status = form.cleaned_data["status"]
    changed = status != task.status
    placed = bool(form.cleaned_data["before"] or form.cleaned_data["end"])
    if not changed and not placed:
        return _task_unchanged(request, project, f"“{task.title}” is already {task.get_status_display()}.")
    if form.cleaned_data["before"]:
        before = get_or_404(Task.objects.filter(project=project), form.cleaned_data["before"])
        task.place(status=status, before=before)
    elif placed:
        task.place(status=status)
    else:
        task.set_status(status)
    project.touch()
    if not changed:
        message = f"Moved “{task.title}”."
    elif task.is_done:
        message = f"Marked “{task.title}” as done."
    else:
        message = f"Moved “{task.title}” to {task.get_status_display()}."
    return _task_changed(request, project, message, changed=task)


@require_POST
@fragment_or_page
def task_move(request: HtmxHttpRequest, pk: str, task_pk: str) -> HttpResponse:
    """Move a task up or down, in the list or within its board column."""
    project, task = _own_task(request, pk, task_pk)
    form = TaskMoveForm(request.POST)
    if not form.is_valid():
        return _task_refused(request, project, "Move a task up or down.")
    direction = form.cleaned_data["direction"]
    if not task.move(direction, within_status=form.cleaned_data["within_status"]):
        edge = "top" if direction == "up" else "bottom"
        return _task_unchanged(request, project, f"“{task.title}” is already at the {edge}.")
    project.touch()
    return _task_changed(request, project, f"Moved “{task.title}” {direction}.", changed=task)


# --- New project by conversation --------------------------------------------------

DRAFT_LIST_LIMIT = 20
DRAFT_PANEL = "projects/_draft_panel.html"


def _own_draft(request: HttpRequest, pk: str) -> ProjectDraft:
    return get_or_404(ProjectDraft.objects.owned_by(request.user), pk)


@require_GET
def project_new(request: HtmxHttpRequest) -> HttpResponse:
    """Start a project by describing it; drafts in progress are listed to pick up again."""
    return _project_new_response(request)


def _project_new_response(request: HtmxHttpRequest, *, typed: str = "", error: str = "", status: int = 200):
    drafts = ProjectDraft.objects.owned_by(request.user)
    context = {
        "drafts": list(drafts[:DRAFT_LIST_LIMIT]),
        "draft_count": drafts.count(),
        "typed": typed,
        "error": error,
        "message_max_length": ChatHistory.MESSAGE_MAX_LENGTH,
    }
    return TemplateResponse(request, "projects/project_new.html", context, status=status)


@require_POST
def draft_start(request: HtmxHttpRequest) -> HttpResponse:
    """A new draft whose conversation opens with the user's description."""
    message = request.POST.get("message", "")
    draft = ProjectDraft.objects.create(owner=request.user)
    try:
        chat_services.chat_send(user=request.user, message=message, draft=draft)
    except chat_services.ChatRejected as rejection:
        draft.delete()
        response = _project_new_response(request, typed=message, error=str(rejection), status=rejection.status)
        if rejection.retry_after:
            response["Retry-After"] = str(rejection.retry_after)
        return response
    return page_redirect(request, draft.get_absolute_url())


@require_http_methods(["GET", "POST"])
@fragment_or_page
def draft_detail(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """The draft's conversation beside the draft; a POST keeps edits and acts on the draft."""
    draft = _own_draft(request, pk)
    if request.method == "GET":
        return _draft_page(request, draft)
    form = DraftForm(request.POST, prefix="draft")
    formset = DraftTaskFormSet(request.POST, prefix="tasks")
    new_task = request.POST.get("new_task", "").strip()
    action, _, index = request.POST.get("action", "save").partition(":")
    if action == "enter":  # Enter pressed in a field: add the task being typed, if any
        action = "add" if new_task else "save"
    if not (form.is_valid() and formset.is_valid()):
        return _draft_panel_response(request, draft, form=form, formset=formset, new_task=new_task, status=422)
    data = draft_json(form.cleaned_data, [task_form.cleaned_data for task_form in formset.forms])
    if action == "add" and new_task:
        data["tasks"].append(_new_task(new_task))
        new_task = ""
    elif action in ("up", "down", "remove"):
        _task_change(data["tasks"], action, index)
    try:
        services.draft_save(draft=draft, data=data)
        if action == "create":
            project = services.project_create_from_draft(draft=draft)
    except DraftInvalid as invalid:
        draft.refresh_from_db()
        return _draft_panel_response(
            request, draft, form=form, formset=formset, new_task=new_task, problems=invalid.problems, status=422
        )
    if action == "create":
        messages.success(request, f"Created “{project.name}” with {_tasks_phrase(project.tasks.count())}.")
        return page_redirect(request, project.get_absolute_url())
    if not request.htmx:
        return redirect(draft)
    return _draft_panel_response(request, draft, new_task=new_task, saved=True)


def _tasks_phrase(count: int) -> str:
    return f"{count} task{'s' if count != 1 else ''}"


def _new_task(title: str) -> dict:
    return {"title": title, "description": "", "priority": "medium", "estimateHours": None, "dueDate": None}


def _task_change(tasks: list[dict], action: str, index: str) -> None:
    try:
        position = int(index)
    except ValueError:
        raise BadRequest("Which task?") from None
    if not 0 <= position < len(tasks):
        return  # gone already (another tab removed it): nothing to do
    if action == "remove":
        del tasks[position]
        return
    other = position - 1 if action == "up" else position + 1
    if 0 <= other < len(tasks):
        tasks[position], tasks[other] = tasks[other], tasks[position]


def _draft_forms(draft: ProjectDraft) -> tuple[DraftForm, object]:
    data = draft.data
    form = DraftForm(
        prefix="draft",
        initial={
            "name": data.get("name", ""),
            "description": data.get("description", ""),
            "priority": data.get("priority", "medium"),
            "start_date": data.get("startDate"),
            "due_date": data.get("dueDate"),
        },
    )
    formset = DraftTaskFormSet(
        prefix="tasks",
        initial=[
            {
                "title": task["title"],
                "description": task["description"],
                "priority": task["priority"],
                "estimate_hours": task["estimateHours"],
                "due_date": task["dueDate"],
            }
            for task in data.get("tasks", [])
        ],
    )
    return form, formset


def _draft_panel_context(draft: ProjectDraft, *, form=None, formset=None, **extra) -> dict:
    if form is None:
        form, formset = _draft_forms(draft)
    return {"draft": draft, "form": form, "formset": formset, **extra}


def _draft_page(request: HtmxHttpRequest, draft: ProjectDraft, **extra) -> HttpResponse:
    # Asked while the page renders, after the conversation is read: a reply that finishes in
    # between is then either still streaming (and asks for the draft when done) or counted here.
    panel = _draft_panel_context(draft, behind=draft.is_behind, **extra)
    return chat_page(request, draft=draft, panel=panel)


def _draft_panel_response(request: HtmxHttpRequest, draft: ProjectDraft, *, status: int = 200, **extra) -> HttpResponse:
    if not request.htmx:
        response = _draft_page(request, draft, **extra)
        response.status_code = status
        return response
    context = {"panel": _draft_panel_context(draft, **extra), "oob": True}  # the page's heading follows the name
    return TemplateResponse(request, DRAFT_PANEL, context, status=status)


@require_POST
@fragment_or_page
def draft_refresh(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """Let the assistant bring the draft up to date with the conversation."""
    draft = _own_draft(request, pk)
    drafted_through = draft.drafted_through
    draft = services.draft_refresh(draft=draft)
    if not request.htmx:
        return redirect(draft)
    if draft.drafted_through == drafted_through and not draft.problem and not request.POST.get("catching_up"):
        # Caught up already (another tab, or the page's own first ask): the panel as it
        # stands may hold edits on their way, so it is left alone.
        return HttpResponse(status=204)
    return _draft_panel_response(request, draft)


@require_POST
def draft_discard(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    draft = _own_draft(request, pk)
    title = draft.title
    draft.delete()
    messages.success(request, f"Discarded the draft “{title}” and its conversation.")
    return page_redirect(request, reverse("projects:new"))


# --- Proposals: the assistant's changes, applied one by one when accepted ---

PROPOSAL = "projects/_proposal.html"


def _chat_anchor(project: Project, chat_pk) -> str:
    return reverse("project-chat:page", args=[project.pk]) + f"#chat-{chat_pk}"


@require_POST
@fragment_or_page
def proposal_create(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """Ask for changes to the project, or a breakdown of one task; shown in the project's chat."""
    project = _own_project(request, pk)
    kind = request.POST.get("kind", Proposal.Kind.CHANGES)
    if kind not in Proposal.Kind.values:
        raise BadRequest("Unknown kind of proposal.")
    task = None
    if kind == Proposal.Kind.BREAKDOWN:
        task = get_or_404(Task.objects.filter(project=project), request.POST.get("task", ""))
    try:
        proposal = services.proposal_create(project=project, kind=kind, task=task)
    except services.ProposalRefused as refused:
        if not request.htmx:
            messages.error(request, str(refused))
            return redirect(reverse("project-chat:page", args=[project.pk]))
        response = with_toast(HttpResponse(status=refused.status), str(refused), "error")
        if refused.retry_after:
            response["Retry-After"] = str(refused.retry_after)
        return reswap(response, "none")
    in_chat = request.htmx and request.htmx.target == "messages"
    if not in_chat:  # asked from the board: the proposal is read in the chat
        return page_redirect(request, _chat_anchor(project, proposal.chat_id))
    total = ChatHistory.objects.owned_by(request.user).in_chat(chat_type=proposal.chat.chat_type, project=project)
    context = {"chat": proposal.chat, "project": project, "total": total.count()}
    return TemplateResponse(request, "chat/chat.html#sent", context)


def _own_proposal(request: HttpRequest, pk: str, proposal_pk: str) -> Proposal:
    project = _own_project(request, pk)
    proposal = get_or_404(Proposal.objects.filter(project=project), proposal_pk)
    proposal.project = project
    return proposal


def _proposal_response(request: HtmxHttpRequest, proposal: Proposal, note: str = "", level: str = "success"):
    if not request.htmx:
        if note:
            messages.add_message(request, messages.SUCCESS if level == "success" else messages.WARNING, note)
        return redirect(_chat_anchor(proposal.project, proposal.chat_id))
    proposal = Proposal.objects.with_changes().get(pk=proposal.pk)
    response = TemplateResponse(request, PROPOSAL, {"proposal": proposal})
    return with_toast(response, note, level) if note else response


def _decision(request: HttpRequest) -> bool:
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        raise BadRequest("Accept or reject?")
    return decision == "accept"


@require_POST
@fragment_or_page
def proposal_decide(request: HtmxHttpRequest, pk: str, proposal_pk: str) -> HttpResponse:
    """Accept or reject every pending change of a proposal at once (stale ones wait)."""
    proposal = _own_proposal(request, pk, proposal_pk)
    accept = _decision(request)
    decided, stale = services.proposal_decide_all(proposal=proposal, user=request.user, accept=accept)
    note = f"{'Accepted' if accept else 'Rejected'} {decided} change{'s' if decided != 1 else ''}."
    if stale:
        note += f" {stale} changed task{'s' if stale != 1 else ''} left for you to look at."
    return _proposal_response(request, proposal, note, "warning" if stale else "success")


@require_POST
@fragment_or_page
def proposal_change_decide(request: HtmxHttpRequest, pk: str, proposal_pk: str, change_pk: str) -> HttpResponse:
    proposal = _own_proposal(request, pk, proposal_pk)
    change = get_or_404(ProposalChange.objects.filter(proposal=proposal).select_related("task"), change_pk)
    change.proposal = proposal
    try:
        services.proposal_decide(change=change, user=request.user, accept=_decision(request))
    except services.ProposalRefused as refused:
        # The card shows why (a stale change says so), so it is swapped in as usual.
        response = _proposal_response(request, proposal, str(refused), "warning")
        if request.htmx:
            response.status_code = refused.status
        return response
    return _proposal_response(request, proposal)
