"""The projects API: projects and their tasks as JSON, for clients other than the pages.

It goes through the same forms (and so the same model validation) and the
same QuerySets as the pages; field names follow the prototype's documents.
Every answer reads ``{"success": true, "data": …}``.
"""

from django import forms
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from catalyst.schemas import RecordWith, Success, Text, errors
from catalyst.shortcuts import get_or_404
from chat import services as chat_services
from chat.models import ChatHistory
from projects import services
from projects.drafts import EMPTY_DRAFT, DraftInvalid
from projects.forms import ProjectFilterForm, ProjectForm, TaskForm
from projects.models import Progress, Project, ProjectDraft, Proposal, ProposalChange, Task
from projects.schemas import (
    DecisionIn,
    DraftIn,
    DraftListResponse,
    DraftResponse,
    DraftStartIn,
    ProjectChangeIn,
    ProjectDeletedResponse,
    ProjectFilter,
    ProjectIn,
    ProjectListResponse,
    ProjectResponse,
    ProposalIn,
    ProposalListResponse,
    ProposalResponse,
    TaskChangeIn,
    TaskIn,
    TaskResponse,
)

router = Router(tags=["projects"], by_alias=True)


def _bound(form_class: type[forms.ModelForm], instance, payload: Schema) -> forms.ModelForm:
    """A form holding the stored values with the fields the payload sets laid over them."""
    fields = form_class._meta.fields
    data = {name: value for name, value in forms.model_to_dict(instance, fields=fields).items() if value is not None}
    for name, value in payload.dict(exclude_unset=True).items():
        if name in fields:
            data[name] = "" if value is None else value
    return form_class(data, instance=instance)


def _valid(form: forms.ModelForm) -> forms.ModelForm:
    if not form.is_valid():
        problems = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
        # The schema let it through, so it breaks a rule between fields (or with the stored ones).
        raise HttpError(422, "Invalid request. " + "; ".join(problems))
    return form


def _saved(form: forms.ModelForm):
    return _valid(form).save()


def _own_project(request: HttpRequest, project_id: str) -> Project:
    return get_or_404(Project.objects.owned_by(request.auth), project_id)


def _project_with_tasks(project: Project) -> dict:
    tasks = list(project.tasks.all())
    progress = Progress.of(t.status for t in tasks)
    return {"success": True, "data": RecordWith(project, progress=progress, tasks=tasks)}


@router.get("", response={200: ProjectListResponse, **errors(400, 401)})
def list_projects(request: HttpRequest, status: ProjectFilter = "", q: Text(200) = ""):
    """Your projects, most recently updated first; ``status=archived`` lists the archived ones."""
    form = ProjectFilterForm({"status": status, "q": q})
    if not form.is_valid():
        raise HttpError(400, "Invalid request. status: choose planning, active, on-hold, completed or archived.")
    projects = list(form.filter(Project.objects.owned_by(request.auth)))
    data = [RecordWith(project, progress=progress) for project, progress in Task.objects.progress_of(projects)]
    return {"success": True, "data": data}


@router.post("", response={201: ProjectResponse, **errors(400, 401, 403, 413, 422)})
def create_project(request: HttpRequest, payload: ProjectIn):
    project = _saved(_bound(ProjectForm, Project(owner=request.auth), payload))
    return Status(201, {"success": True, "data": RecordWith(project, progress=Progress(), tasks=[])})


@router.get("/{project_id}", response={200: ProjectResponse, **errors(401, 404)})
def get_project(request: HttpRequest, project_id: str):
    """One project with its tasks in order."""
    return _project_with_tasks(_own_project(request, project_id))


@router.patch("/{project_id}", response={200: ProjectResponse, **errors(400, 401, 403, 404, 413, 422)})
def update_project(request: HttpRequest, project_id: str, payload: ProjectChangeIn):
    """Change the fields you send; ``archived`` archives or restores the project."""
    project = _own_project(request, project_id)
    _saved(_bound(ProjectForm, project, payload))
    archived = payload.dict(exclude_unset=True).get("archived")
    if archived is True and not project.is_archived:
        project.archive()
    elif archived is False and project.is_archived:
        project.restore()
    return _project_with_tasks(project)


@router.delete("/{project_id}", response={200: ProjectDeletedResponse, **errors(401, 403, 404)})
def delete_project(request: HttpRequest, project_id: str):
    """Delete the project and all its tasks."""
    project = _own_project(request, project_id)
    tasks = project.tasks.count()
    project.delete()
    return {"success": True, "deleted_tasks": tasks}


@router.post("/{project_id}/tasks", response={201: TaskResponse, **errors(400, 401, 403, 404, 413)})
def create_task(request: HttpRequest, project_id: str, payload: TaskIn):
    """Add a task at the end of the project."""
    project = _own_project(request, project_id)
    task = _valid(_bound(TaskForm, Task(project=project), payload)).save(commit=False)
    task.save_at_end()
    project.touch()
    return Status(201, {"success": True, "data": task})


@router.patch("/{project_id}/tasks/{task_id}", response={200: TaskResponse, **errors(400, 401, 403, 404, 413)})
def update_task(request: HttpRequest, project_id: str, task_id: str, payload: TaskChangeIn):
    project = _own_project(request, project_id)
    task = get_or_404(Task.objects.filter(project=project), task_id)
    _saved(_bound(TaskForm, task, payload))
    project.touch()
    return {"success": True, "data": task}


@router.delete("/{project_id}/tasks/{task_id}", response={200: Success, **errors(401, 403, 404)})
def delete_task(request: HttpRequest, project_id: str, task_id: str):
    project = _own_project(request, project_id)
    get_or_404(Task.objects.filter(project=project), task_id).delete()
    project.touch()
    return {"success": True}


# --- Project drafts: a project planned in conversation, before it exists ----------

drafts_router = Router(tags=["project drafts"], by_alias=True)


def _draft(draft: ProjectDraft, chat_ids: list | None = None) -> RecordWith:
    """The draft as its answer reads it: its plan, its record and its conversation."""
    if chat_ids is None:
        chat_ids = list(draft.chats.order_by("created_at").values_list("pk", flat=True))
    return RecordWith(draft, **{**EMPTY_DRAFT, **draft.data}, chat_ids=chat_ids)


def _own_draft(request: HttpRequest, draft_id: str) -> ProjectDraft:
    return get_or_404(ProjectDraft.objects.owned_by(request.auth), draft_id)


@drafts_router.get("", response={200: DraftListResponse, **errors(401)})
def list_drafts(request: HttpRequest):
    """The drafts in progress, most recently changed first."""
    drafts = list(ProjectDraft.objects.owned_by(request.auth)[:100])
    chats: dict = {}
    for draft_id, chat_id in (
        ChatHistory.objects.filter(draft__in=drafts).order_by("created_at").values_list("draft_id", "pk")
    ):
        chats.setdefault(draft_id, []).append(chat_id)
    return {"success": True, "data": [_draft(draft, chats.get(draft.pk, [])) for draft in drafts]}


@drafts_router.post("", response={201: DraftResponse, **errors(400, 401, 403, 413, 422, 429, 503)})
def start_draft(request: HttpRequest, payload: DraftStartIn):
    """Start a draft with the user's description; the assistant's reply is being written (follow `chatIds[0]`)."""
    draft = ProjectDraft.objects.create(owner=request.auth)
    try:
        chat_services.chat_send(user=request.auth, message=payload.message, draft=draft)
    except chat_services.ChatRejected as rejection:
        draft.delete()
        raise HttpError(rejection.status, str(rejection)) from None
    return Status(201, {"success": True, "data": _draft(draft)})


@drafts_router.get("/{draft_id}", response={200: DraftResponse, **errors(401, 404)})
def get_draft(request: HttpRequest, draft_id: str):
    return {"success": True, "data": _draft(_own_draft(request, draft_id))}


@drafts_router.put("/{draft_id}", response={200: DraftResponse, **errors(400, 401, 403, 404, 413, 422)})
def update_draft(request: HttpRequest, draft_id: str, payload: DraftIn):
    """Replace the draft with the user's version (a name may wait until the project is created)."""
    draft = _own_draft(request, draft_id)
    data = payload.model_dump(mode="json", by_alias=True)  # the plan's own shape: camelCase names
    try:
        services.draft_save(draft=draft, data=data)
    except DraftInvalid as invalid:
        raise HttpError(422, " ".join(invalid.problems)) from None
    return {"success": True, "data": _draft(draft)}


@drafts_router.post("/{draft_id}/refresh", response={200: DraftResponse, **errors(401, 403, 404)})
def refresh_draft(request: HttpRequest, draft_id: str):
    """Let the assistant bring the draft up to date with its finished exchanges.

    Nothing changes when it has read them all. When its plan cannot be used
    (after one repair attempt), the draft stays as it was and ``problem`` says why.
    """
    draft = services.draft_refresh(draft=_own_draft(request, draft_id))
    return {"success": True, "data": _draft(draft)}


@drafts_router.post("/{draft_id}/create", response={201: ProjectResponse, **errors(401, 403, 404, 422)})
def create_from_draft(request: HttpRequest, draft_id: str):
    """Create the project and all its tasks in one step; the draft's conversation becomes its planning chat."""
    draft = _own_draft(request, draft_id)
    try:
        project = services.project_create_from_draft(draft=draft)
    except DraftInvalid as invalid:
        raise HttpError(422, " ".join(invalid.problems)) from None
    return Status(201, _project_with_tasks(project))


@drafts_router.delete("/{draft_id}", response={200: Success, **errors(401, 403, 404)})
def delete_draft(request: HttpRequest, draft_id: str):
    """Discard the draft and its conversation."""
    _own_draft(request, draft_id).delete()
    return {"success": True}


# --- Proposals: the assistant's changes to a project, applied only when accepted ---


def _proposals(project: Project):
    return Proposal.objects.filter(project=project).with_changes()


@router.get("/{project_id}/proposals", response={200: ProposalListResponse, **errors(401, 404)})
def list_proposals(request: HttpRequest, project_id: str):
    """The project's proposals, newest first (the last 50)."""
    project = _own_project(request, project_id)
    return {"success": True, "data": list(_proposals(project)[:50])}


@router.post(
    "/{project_id}/proposals", response={201: ProposalResponse, **errors(400, 401, 403, 404, 429, 502, 503, 504)}
)
def create_proposal(request: HttpRequest, project_id: str, payload: ProposalIn):
    """Ask the assistant for changes (or a 3–8 task breakdown of `taskId`); nothing changes until accepted."""
    project = _own_project(request, project_id)
    task = None
    if payload.kind == Proposal.Kind.BREAKDOWN:
        if not payload.task_id:
            raise HttpError(400, "Invalid request. taskId: required to break a task down")
        task = get_or_404(Task.objects.filter(project=project), payload.task_id)
    try:
        proposal = services.proposal_create(project=project, kind=payload.kind, task=task)
    except services.ProposalRefused as refused:
        raise HttpError(refused.status, str(refused)) from None
    return Status(201, {"success": True, "data": _proposals(project).get(pk=proposal.pk)})


@router.post("/{project_id}/proposals/{proposal_id}", response={200: ProposalResponse, **errors(400, 401, 403, 404)})
def decide_proposal(request: HttpRequest, project_id: str, proposal_id: str, payload: DecisionIn):
    """Accept or reject every pending change; stale ones stay pending (see `stale`)."""
    project = _own_project(request, project_id)
    proposal = get_or_404(_proposals(project), proposal_id)
    services.proposal_decide_all(proposal=proposal, user=request.auth, accept=payload.decision == "accept")
    return {"success": True, "data": _proposals(project).get(pk=proposal.pk)}


@router.post(
    "/{project_id}/proposals/{proposal_id}/changes/{change_id}",
    response={200: ProposalResponse, **errors(400, 401, 403, 404, 409, 422)},
)
def decide_change(request: HttpRequest, project_id: str, proposal_id: str, change_id: str, payload: DecisionIn):
    """Accept (apply) or reject one change; 409 when it was decided already or its task changed since."""
    project = _own_project(request, project_id)
    proposal = get_or_404(Proposal.objects.filter(project=project), proposal_id)
    change = get_or_404(ProposalChange.objects.filter(proposal=proposal).select_related("task"), change_id)
    change.proposal = proposal
    try:
        services.proposal_decide(change=change, user=request.auth, accept=payload.decision == "accept")
    except services.ProposalRefused as refused:
        raise HttpError(refused.status, str(refused)) from None
    return {"success": True, "data": _proposals(project).get(pk=proposal.pk)}
