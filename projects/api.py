"""The projects API: projects and their tasks as JSON, for clients other than the pages.

It goes through the same forms (and so the same model validation) and the
same QuerySets as the pages; field names follow the prototype's documents.
Every answer reads ``{"success": true, "data": …}``.
"""

import datetime
from decimal import Decimal
from typing import Literal

from django import forms
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from catalyst.shortcuts import get_or_404
from projects.forms import ProjectFilterForm, ProjectForm, TaskForm
from projects.models import Progress, Project, Task

router = Router(tags=["projects"])

ProjectStatus = Literal["planning", "active", "on-hold", "completed"]
TaskStatus = Literal["todo", "in-progress", "done"]
PriorityName = Literal["low", "medium", "high", "urgent"]

PROJECT_FIELDS = {"startDate": "start_date", "dueDate": "due_date"}
TASK_FIELDS = {"dueDate": "due_date", "estimatedHours": "estimate_hours"}


class ProjectIn(Schema):
    name: str | None = None
    description: str | None = None
    status: ProjectStatus | None = None
    priority: PriorityName | None = None
    startDate: datetime.date | None = None  # noqa: N815 - the prototype's names
    dueDate: datetime.date | None = None  # noqa: N815
    archived: bool | None = None


class TaskIn(Schema):
    title: str | None = None
    description: str | None = None
    status: TaskStatus | None = None
    priority: PriorityName | None = None
    dueDate: datetime.date | None = None  # noqa: N815
    estimatedHours: Decimal | None = None  # noqa: N815


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


def _saved(form: forms.ModelForm):
    if not form.is_valid():
        problems = [f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()]
        raise HttpError(400, "Invalid request. " + "; ".join(problems))
    return form.save()


def _own_project(request: HttpRequest, project_id: str) -> Project:
    return get_or_404(Project.objects.owned_by(request.auth), project_id)


def _project_with_tasks(project: Project) -> dict:
    tasks = list(project.tasks.all())
    return {"success": True, "data": project_data(project, Progress.of(t.status for t in tasks), tasks)}


@router.get("", response={200: dict})
def list_projects(request: HttpRequest, status: str = "", q: str = ""):
    """Your projects, most recently updated first; ``status=archived`` lists the archived ones."""
    form = ProjectFilterForm({"status": status, "q": q})
    if not form.is_valid():
        raise HttpError(400, "Invalid request. status: choose planning, active, on-hold, completed or archived.")
    projects = list(form.filter(Project.objects.owned_by(request.auth)))
    progress = Task.objects.in_projects(projects).progress_by_project()
    return {"success": True, "data": [project_data(p, progress.get(p.pk, Progress())) for p in projects]}


@router.post("", response={201: dict})
def create_project(request: HttpRequest, payload: ProjectIn):
    project = _saved(_bound(ProjectForm, Project(owner=request.auth), payload, PROJECT_FIELDS))
    return Status(201, {"success": True, "data": project_data(project, Progress(), [])})


@router.get("/{project_id}", response={200: dict})
def get_project(request: HttpRequest, project_id: str):
    """One project with its tasks in order."""
    return _project_with_tasks(_own_project(request, project_id))


@router.patch("/{project_id}", response={200: dict})
def update_project(request: HttpRequest, project_id: str, payload: ProjectIn):
    """Change the fields you send; ``archived`` archives or restores the project."""
    project = _own_project(request, project_id)
    _saved(_bound(ProjectForm, project, payload, PROJECT_FIELDS))
    archived = payload.dict(exclude_unset=True).get("archived")
    if archived is True and not project.is_archived:
        project.archive()
    elif archived is False and project.is_archived:
        project.restore()
    return _project_with_tasks(project)


@router.delete("/{project_id}", response={200: dict})
def delete_project(request: HttpRequest, project_id: str):
    """Delete the project and all its tasks."""
    project = _own_project(request, project_id)
    tasks = project.tasks.count()
    project.delete()
    return {"success": True, "deletedTasks": tasks}


@router.post("/{project_id}/tasks", response={201: dict})
def create_task(request: HttpRequest, project_id: str, payload: TaskIn):
    """Add a task at the end of the project."""
    project = _own_project(request, project_id)
    task = Task(project=project, position=project.tasks.next_position())
    _saved(_bound(TaskForm, task, payload, TASK_FIELDS))
    project.touch()
    return Status(201, {"success": True, "data": task_data(task)})


@router.patch("/{project_id}/tasks/{task_id}", response={200: dict})
def update_task(request: HttpRequest, project_id: str, task_id: str, payload: TaskIn):
    project = _own_project(request, project_id)
    task = get_or_404(Task.objects.filter(project=project), task_id)
    _saved(_bound(TaskForm, task, payload, TASK_FIELDS))
    project.touch()
    return {"success": True, "data": task_data(task)}


@router.delete("/{project_id}/tasks/{task_id}", response={200: dict})
def delete_task(request: HttpRequest, project_id: str, task_id: str):
    project = _own_project(request, project_id)
    get_or_404(Task.objects.filter(project=project), task_id).delete()
    project.touch()
    return {"success": True}
