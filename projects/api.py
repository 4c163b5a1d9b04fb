"""The projects API: projects and their tasks as JSON, for clients other than the pages.

It goes through the same forms (and so the same model validation) and the
same QuerySets as the pages; field names follow the prototype's documents.
Every answer reads ``{"success": true, "data": …}``.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from django import forms
from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator

from catalyst.api import BodyIn, Day, IsoDate, Moment, Text, errors
from catalyst.shortcuts import get_or_404
from chat import services as chat_services
from chat.models import ChatHistory
from projects import services
from projects.drafts import EMPTY_DRAFT, DraftInvalid
from projects.forms import ProjectFilterForm, ProjectForm, TaskForm
from projects.models import Progress, Project, ProjectDraft, Proposal, ProposalChange, Task

router = Router(tags=["projects"])

ProjectStatus = Literal["planning", "active", "on-hold", "completed"]
TaskStatus = Literal["todo", "in-progress", "done"]
PriorityName = Literal["low", "medium", "high", "urgent"]

PROJECT_FIELDS = {"startDate": "start_date", "dueDate": "due_date"}
TASK_FIELDS = {"dueDate": "due_date", "estimatedHours": "estimate_hours"}


Name = Text(200, blank=False)
Description = Text(5000)


def _tenths(hours: float) -> float:
    # Rounded as written in decimal (1.25 to 1.3), not as the nearest binary float.
    return float(Decimal(str(hours)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


Hours = Annotated[
    float,
    Field(ge=0, le=10000, allow_inf_nan=False, description="Estimated hours, kept to one decimal place (rounded)."),
    AfterValidator(_tenths),
]


def _without_default(schema: dict) -> None:
    schema.pop("default", None)


def _optional():
    """A field a request may leave out (the stored or default value stays) but not set to null."""
    return Field(None, json_schema_extra=_without_default)


class ProjectFields(BodyIn):
    name: Name = _optional()
    description: Description | None = None
    status: ProjectStatus = _optional()
    priority: PriorityName = _optional()
    startDate: IsoDate | None = None  # noqa: N815 - the prototype's names
    dueDate: IsoDate | None = Field(None, description="Not before `startDate` (else 422).")  # noqa: N815


class ProjectIn(ProjectFields):
    """A new project."""

    name: Name


class ProjectChangeIn(ProjectFields):
    """The fields to change; ``archived`` archives or restores the project."""

    archived: bool | None = None


class TaskChangeIn(BodyIn):
    """The fields to change."""

    title: Name = _optional()
    description: Description | None = None
    status: TaskStatus = _optional()
    priority: PriorityName = _optional()
    dueDate: IsoDate | None = None  # noqa: N815
    estimatedHours: Hours | None = None  # noqa: N815


class TaskIn(TaskChangeIn):
    """A new task."""

    title: Name


class ProgressOut(Schema):
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)


class TaskOut(Schema):
    id: str = Field(alias="_id")
    projectId: str
    title: str
    description: str
    status: TaskStatus
    priority: PriorityName
    dueDate: Day | None
    estimatedHours: float | None = Field(ge=0)
    position: int = Field(ge=0)
    overdue: bool
    completedAt: Moment | None
    createdAt: Moment
    updatedAt: Moment


class ProjectOut(Schema):
    id: str = Field(alias="_id")
    userId: str
    name: str
    description: str
    status: ProjectStatus
    priority: PriorityName
    startDate: Day | None
    dueDate: Day | None
    archivedAt: Moment | None
    progress: ProgressOut
    createdAt: Moment
    updatedAt: Moment


class ProjectWithTasksOut(ProjectOut):
    tasks: list[TaskOut]


class ProjectListResponse(Schema):
    success: Literal[True]
    data: list[ProjectOut]


class ProjectResponse(Schema):
    success: Literal[True]
    data: ProjectWithTasksOut


class ProjectDeletedResponse(Schema):
    success: Literal[True]
    deletedTasks: int = Field(ge=0)


class TaskResponse(Schema):
    success: Literal[True]
    data: TaskOut


class TaskDeletedResponse(Schema):
    success: Literal[True]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def task_data(task: Task) -> dict:
    return {
        "_id": str(task.pk),
        "projectId": str(task.project_id),
        "title": task.title,
        "description": task.description,
        "status": task.status,
        "priority": task.priority,
        "dueDate": _iso(task.due_date),
        "estimatedHours": float(task.estimate_hours) if task.estimate_hours is not None else None,
        "position": task.position,
        "overdue": task.is_overdue,
        "completedAt": _iso(task.completed_at),
        "createdAt": _iso(task.created_at),
        "updatedAt": _iso(task.updated_at),
    }


def project_data(project: Project, progress: Progress, tasks: list[Task] | None = None) -> dict:
    data = {
        "_id": str(project.pk),
        "userId": str(project.owner_id),
        "name": project.name,
        "description": project.description,
        "status": project.status,
        "priority": project.priority,
        "startDate": _iso(project.start_date),
        "dueDate": _iso(project.due_date),
        "archivedAt": _iso(project.archived_at),
        "progress": {"done": progress.done, "total": progress.total, "percent": progress.percent},
        "createdAt": _iso(project.created_at),
        "updatedAt": _iso(project.updated_at),
    }
    if tasks is not None:
        data["tasks"] = [task_data(task) for task in tasks]
    return data


def _bound(form_class: type[forms.ModelForm], instance, payload: Schema, names: dict[str, str]) -> forms.ModelForm:
    """A form holding the stored values with the fields the payload sets laid over them."""
    fields = form_class._meta.fields
    data = {name: value for name, value in forms.model_to_dict(instance, fields=fields).items() if value is not None}
    for key, value in payload.dict(exclude_unset=True).items():
        name = names.get(key, key)
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
    return {"success": True, "data": project_data(project, Progress.of(t.status for t in tasks), tasks)}


@router.get("", response={200: ProjectListResponse, **errors(400, 401)}, by_alias=True)
def list_projects(
    request: HttpRequest,
    status: Literal["", "planning", "active", "on-hold", "completed", "archived"] = "",
    q: Text(200) = "",
):
    """Your projects, most recently updated first; ``status=archived`` lists the archived ones."""
    form = ProjectFilterForm({"status": status, "q": q})
    if not form.is_valid():
        raise HttpError(400, "Invalid request. status: choose planning, active, on-hold, completed or archived.")
    projects = list(form.filter(Project.objects.owned_by(request.auth)))
    progress = Task.objects.in_projects(projects).progress_by_project()
    return {"success": True, "data": [project_data(p, progress.get(p.pk, Progress())) for p in projects]}


@router.post("", response={201: ProjectResponse, **errors(400, 401, 403, 413, 422)}, by_alias=True)
def create_project(request: HttpRequest, payload: ProjectIn):
    project = _saved(_bound(ProjectForm, Project(owner=request.auth), payload, PROJECT_FIELDS))
    return Status(201, {"success": True, "data": project_data(project, Progress(), [])})


@router.get("/{project_id}", response={200: ProjectResponse, **errors(401, 404)}, by_alias=True)
def get_project(request: HttpRequest, project_id: str):
    """One project with its tasks in order."""
    return _project_with_tasks(_own_project(request, project_id))


@router.patch("/{project_id}", response={200: ProjectResponse, **errors(400, 401, 403, 404, 413, 422)}, by_alias=True)
def update_project(request: HttpRequest, project_id: str, payload: ProjectChangeIn):
    """Change the fields you send; ``archived`` archives or restores the project."""
    project = _own_project(request, project_id)
    _saved(_bound(ProjectForm, project, payload, PROJECT_FIELDS))
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
    return {"success": True, "deletedTasks": tasks}


@router.post("/{project_id}/tasks", response={201: TaskResponse, **errors(400, 401, 403, 404, 413)}, by_alias=True)
def create_task(request: HttpRequest, project_id: str, payload: TaskIn):
    """Add a task at the end of the project."""
    project = _own_project(request, project_id)
    task = _valid(_bound(TaskForm, Task(project=project), payload, TASK_FIELDS)).save(commit=False)
    task.save_at_end()
    project.touch()
    return Status(201, {"success": True, "data": task_data(task)})


@router.patch(
    "/{project_id}/tasks/{task_id}", response={200: TaskResponse, **errors(400, 401, 403, 404, 413)}, by_alias=True
)
def update_task(request: HttpRequest, project_id: str, task_id: str, payload: TaskChangeIn):
    project = _own_project(request, project_id)
    task = get_or_404(Task.objects.filter(project=project), task_id)
    _saved(_bound(TaskForm, task, payload, TASK_FIELDS))
    project.touch()
    return {"success": True, "data": task_data(task)}


@router.delete("/{project_id}/tasks/{task_id}", response={200: TaskDeletedResponse, **errors(401, 403, 404)})
def delete_task(request: HttpRequest, project_id: str, task_id: str):
    project = _own_project(request, project_id)
    get_or_404(Task.objects.filter(project=project), task_id).delete()
    project.touch()
    return {"success": True}


# --- Project drafts: a project planned in conversation, before it exists ----------

drafts_router = Router(tags=["project drafts"])


class DraftTaskIn(BodyIn):
    title: Text(200)
    description: Description = ""
    priority: PriorityName = "medium"
    estimateHours: Hours | None = None  # noqa: N815 - the API's names
    dueDate: IsoDate | None = None  # noqa: N815


class DraftTaskOut(Schema):
    title: str
    description: str
    priority: PriorityName
    estimateHours: float | None
    dueDate: Day | None


class DraftIn(BodyIn):
    """The whole draft as it should stand; the project and task rules apply (422 when one is broken)."""

    name: Text(200) = ""
    description: Description = ""
    priority: PriorityName = "medium"
    startDate: IsoDate | None = None  # noqa: N815 - the API's names
    dueDate: IsoDate | None = None  # noqa: N815
    tasks: list[DraftTaskIn] = Field(default_factory=list, max_length=50)


class DraftStartIn(BodyIn):
    message: Text(ChatHistory.MESSAGE_MAX_LENGTH, blank=False) = Field(
        description="What the user wants to build: the conversation's first message."
    )


class DraftOut(Schema):
    id: str = Field(alias="_id")
    userId: str
    name: str
    description: str
    priority: PriorityName
    startDate: Day | None
    dueDate: Day | None
    tasks: list[DraftTaskOut]
    problem: str = Field(description="Why the assistant's last draft was not used; empty when it was.")
    chatIds: list[str] = Field(description="The conversation, oldest first (`/api/chat/{id}/stream` follows one).")
    createdAt: Moment
    updatedAt: Moment


class DraftResponse(Schema):
    success: Literal[True]
    data: DraftOut


class DraftListResponse(Schema):
    success: Literal[True]
    data: list[DraftOut]


class DraftDeletedResponse(Schema):
    success: Literal[True]


def draft_data(draft: ProjectDraft, chat_ids: list[str] | None = None) -> dict:
    if chat_ids is None:
        chat_ids = [str(pk) for pk in draft.chats.order_by("created_at").values_list("pk", flat=True)]
    return {
        **{key: draft.data.get(key, value) for key, value in EMPTY_DRAFT.items()},
        "_id": str(draft.pk),
        "userId": str(draft.owner_id),
        "problem": draft.problem,
        "chatIds": chat_ids,
        "createdAt": _iso(draft.created_at),
        "updatedAt": _iso(draft.updated_at),
    }


def _own_draft(request: HttpRequest, draft_id: str) -> ProjectDraft:
    return get_or_404(ProjectDraft.objects.owned_by(request.auth), draft_id)


@drafts_router.get("", response={200: DraftListResponse, **errors(401)}, by_alias=True)
def list_drafts(request: HttpRequest):
    """The drafts in progress, most recently changed first."""
    drafts = list(ProjectDraft.objects.owned_by(request.auth)[:100])
    chats: dict = {}
    for draft_id, chat_id in (
        ChatHistory.objects.filter(draft__in=drafts).order_by("created_at").values_list("draft_id", "pk")
    ):
        chats.setdefault(draft_id, []).append(str(chat_id))
    return {"success": True, "data": [draft_data(draft, chats.get(draft.pk, [])) for draft in drafts]}


@drafts_router.post("", response={201: DraftResponse, **errors(400, 401, 403, 413, 422, 429, 503)}, by_alias=True)
def start_draft(request: HttpRequest, payload: DraftStartIn):
    """Start a draft with the user's description; the assistant's reply is being written (follow `chatIds[0]`)."""
    draft = ProjectDraft.objects.create(owner=request.auth)
    try:
        chat_services.chat_send(user=request.auth, message=payload.message, draft=draft)
    except chat_services.ChatRejected as rejection:
        draft.delete()
        raise HttpError(rejection.status, str(rejection)) from None
    return Status(201, {"success": True, "data": draft_data(draft)})


@drafts_router.get("/{draft_id}", response={200: DraftResponse, **errors(401, 404)}, by_alias=True)
def get_draft(request: HttpRequest, draft_id: str):
    return {"success": True, "data": draft_data(_own_draft(request, draft_id))}


@drafts_router.put("/{draft_id}", response={200: DraftResponse, **errors(400, 401, 403, 404, 413, 422)}, by_alias=True)
def update_draft(request: HttpRequest, draft_id: str, payload: DraftIn):
    """Replace the draft with the user's version (a name may wait until the project is created)."""
    draft = _own_draft(request, draft_id)
    data = payload.model_dump(mode="json")
    try:
        services.draft_save(draft=draft, data=data)
    except DraftInvalid as invalid:
        raise HttpError(422, " ".join(invalid.problems)) from None
    return {"success": True, "data": draft_data(draft)}


@drafts_router.post("/{draft_id}/refresh", response={200: DraftResponse, **errors(401, 403, 404)}, by_alias=True)
def refresh_draft(request: HttpRequest, draft_id: str):
    """Let the assistant bring the draft up to date with its finished exchanges.

    Nothing changes when it has read them all. When its plan cannot be used
    (after one repair attempt), the draft stays as it was and ``problem`` says why.
    """
    draft = services.draft_refresh(draft=_own_draft(request, draft_id))
    return {"success": True, "data": draft_data(draft)}


@drafts_router.post("/{draft_id}/create", response={201: ProjectResponse, **errors(401, 403, 404, 422)}, by_alias=True)
def create_from_draft(request: HttpRequest, draft_id: str):
    """Create the project and all its tasks in one step; the draft's conversation becomes its planning chat."""
    draft = _own_draft(request, draft_id)
    try:
        project = services.project_create_from_draft(draft=draft)
    except DraftInvalid as invalid:
        raise HttpError(422, " ".join(invalid.problems)) from None
    return Status(201, _project_with_tasks(project))


@drafts_router.delete("/{draft_id}", response={200: DraftDeletedResponse, **errors(401, 403, 404)})
def delete_draft(request: HttpRequest, draft_id: str):
    """Discard the draft and its conversation."""
    _own_draft(request, draft_id).delete()
    return {"success": True}


# --- Proposals: the assistant's changes to a project, applied only when accepted ---


class ProposalIn(BodyIn):
    kind: Literal["changes", "breakdown"] = "changes"
    taskId: str | None = Field(None, description="The task to break down (kind `breakdown`).")


class DecisionIn(BodyIn):
    decision: Literal["accept", "reject"]


class ProposalChangeOut(Schema):
    id: str = Field(alias="_id")
    action: Literal["add", "change", "remove"]
    taskId: str | None = Field(description="The task changed or removed; for an accepted add, the task it created.")
    taskTitle: str
    fields: dict = Field(description="The proposed values, by the task's API field names.")
    before: dict = Field(description="The task's values for those fields when the change was proposed.")
    reason: str
    status: Literal["pending", "accepted", "rejected"]
    stale: bool = Field(description="The task changed after the proposal: accepting answers 409.")
    decidedAt: Moment | None


class ProposalOut(Schema):
    id: str = Field(alias="_id")
    projectId: str
    chatId: str = Field(description="The planning-chat exchange that shows it.")
    kind: Literal["changes", "breakdown"]
    summary: str
    model: str
    changes: list[ProposalChangeOut]
    createdAt: Moment


class ProposalResponse(Schema):
    success: Literal[True]
    data: ProposalOut


class ProposalListResponse(Schema):
    success: Literal[True]
    data: list[ProposalOut]


def proposal_data(proposal: Proposal) -> dict:
    return {
        "_id": str(proposal.pk),
        "projectId": str(proposal.project_id),
        "chatId": str(proposal.chat_id),
        "kind": proposal.kind,
        "summary": proposal.summary,
        "model": proposal.model_name,
        "changes": [
            {
                "_id": str(change.pk),
                "action": change.action,
                "taskId": None if change.task_id is None else str(change.task_id),
                "taskTitle": change.task_title,
                "fields": change.fields,
                "before": change.before,
                "reason": change.reason,
                "status": change.status,
                "stale": change.is_stale,
                "decidedAt": _iso(change.decided_at),
            }
            for change in proposal.changes.all()
        ],
        "createdAt": _iso(proposal.created_at),
    }


def _proposals(project: Project):
    return Proposal.objects.filter(project=project).prefetch_related(
        Prefetch("changes", ProposalChange.objects.select_related("task"))
    )


@router.get("/{project_id}/proposals", response={200: ProposalListResponse, **errors(401, 404)}, by_alias=True)
def list_proposals(request: HttpRequest, project_id: str):
    """The project's proposals, newest first (the last 50)."""
    project = _own_project(request, project_id)
    return {"success": True, "data": [proposal_data(p) for p in _proposals(project)[:50]]}


@router.post(
    "/{project_id}/proposals",
    response={201: ProposalResponse, **errors(400, 401, 403, 404, 429, 502, 503, 504)},
    by_alias=True,
)
def create_proposal(request: HttpRequest, project_id: str, payload: ProposalIn):
    """Ask the assistant for changes (or a 3–8 task breakdown of `taskId`); nothing changes until accepted."""
    project = _own_project(request, project_id)
    task = None
    if payload.kind == "breakdown":
        if not payload.taskId:
            raise HttpError(400, "Invalid request. taskId: required to break a task down")
        task = get_or_404(Task.objects.filter(project=project), payload.taskId)
    try:
        proposal = services.proposal_create(project=project, kind=payload.kind, task=task)
    except services.ProposalRefused as refused:
        raise HttpError(refused.status, str(refused)) from None
    return Status(201, {"success": True, "data": proposal_data(_proposals(project).get(pk=proposal.pk))})


@router.post(
    "/{project_id}/proposals/{proposal_id}",
    response={200: ProposalResponse, **errors(400, 401, 403, 404)},
    by_alias=True,
)
def decide_proposal(request: HttpRequest, project_id: str, proposal_id: str, payload: DecisionIn):
    """Accept or reject every pending change; stale ones stay pending (see `stale`)."""
    project = _own_project(request, project_id)
    proposal = get_or_404(_proposals(project), proposal_id)
    services.proposal_decide_all(proposal=proposal, user=request.auth, accept=payload.decision == "accept")
    return {"success": True, "data": proposal_data(_proposals(project).get(pk=proposal.pk))}


@router.post(
    "/{project_id}/proposals/{proposal_id}/changes/{change_id}",
    response={200: ProposalResponse, **errors(400, 401, 403, 404, 409, 422)},
    by_alias=True,
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
    return {"success": True, "data": proposal_data(_proposals(project).get(pk=proposal.pk))}
