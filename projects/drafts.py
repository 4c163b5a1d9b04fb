"""A project plan before it exists: its JSON shape, and the rules it must pass.

The same shape travels everywhere: the assistant is asked for it (``SCHEMA``
is sent to the model as its response schema), the JSON API reads and writes
it, and ``ProjectDraft.data`` stores it. Whatever its source, a draft is
read by ``draft_clean``: first the shape, then the very forms that guard the
project and task pages, so a draft that passes can be created as it is.
"""

import datetime
import math

from django import forms
from django.forms.utils import ErrorDict

from projects.forms import ProjectForm, TaskForm
from projects.models import Priority, Project, Task

TASK_LIMIT = 50
PRIORITIES = [choice.value for choice in Priority]
EMPTY_DRAFT = {"name": "", "description": "", "priority": "medium", "startDate": None, "dueDate": None, "tasks": []}
UNTITLED = "Untitled project"
_LABELS = {"estimate_hours": "Estimate (hours)", "start_date": "Start date", "due_date": "Due date"}

_DATE = {"type": ["string", "null"], "description": "YYYY-MM-DD, or null when the plan implies no date."}
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "A short project name (at most 200 characters)."},
        "description": {"type": "string", "description": "What the project is for and what done looks like."},
        "priority": {"type": "string", "enum": PRIORITIES},
        "startDate": _DATE,
        "dueDate": _DATE,
        "tasks": {
            "type": "array",
            "maxItems": TASK_LIMIT,
            "description": "The work, in the order it should be done.",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "description": "A short, concrete task title."},
                    "description": {"type": "string"},
                    "priority": {"type": "string", "enum": PRIORITIES},
                    "estimateHours": {"type": ["number", "null"], "minimum": 0, "maximum": 10000},
                    "dueDate": _DATE,
                },
                "required": ["title", "description", "priority", "estimateHours", "dueDate"],
            },
        },
    },
    "required": ["name", "description", "priority", "startDate", "dueDate", "tasks"],
}


class DraftInvalid(Exception):
    """A draft that breaks the shape or the forms' rules; ``problems`` say how, in plain words."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def draft_clean(data: object, *, complete: bool = True) -> dict:
    """``data`` as a valid draft, normalised; raises ``DraftInvalid`` when any part breaks a rule.

    ``complete`` drafts need a name (the assistant's, or one about to be
    created); a draft being edited may leave it empty for now.
    """
    if not isinstance(data, dict):
        raise DraftInvalid(["The draft is not a JSON object."])
    problems: list[str] = []
    tasks = data.get("tasks", [])
    if not isinstance(tasks, list):
        problems.append("“tasks” must be a list.")
        tasks = []
    elif len(tasks) > TASK_LIMIT:
        problems.append(f"A draft holds at most {TASK_LIMIT} tasks; this one has {len(tasks)}.")
    name = _text(data, "name", problems)
    project = ProjectForm(
        data={
            "name": name or ("" if complete else UNTITLED),
            "description": _text(data, "description", problems),
            "status": Project.Status.PLANNING,
            "priority": _text(data, "priority", problems, default="medium"),
            "start_date": _date(data, "startDate", problems),
            "due_date": _date(data, "dueDate", problems),
        }
    )
    problems += _form_problems(project, "")
    cleaned_tasks = []
    for number, task in enumerate(tasks[:TASK_LIMIT], start=1):
        if not isinstance(task, dict):
            problems.append(f"Task {number} is not a JSON object.")
            continue
        form = TaskForm(
            data={
                "title": _text(task, "title", problems),
                "description": _text(task, "description", problems),
                "status": Task.Status.TODO,
                "priority": _text(task, "priority", problems, default="medium"),
                "due_date": _date(task, "dueDate", problems),
                "estimate_hours": _hours(task, problems),
            }
        )
        task_problems = _form_problems(form, f"Task {number}")
        problems += task_problems
        if not task_problems:
            cleaned_tasks.append(_task_json(form.cleaned_data))
    if problems:
        raise DraftInvalid(problems)
    return {**draft_json(project.cleaned_data, []), "name": name.strip(), "tasks": cleaned_tasks}


def draft_json(project: dict, tasks: list[dict]) -> dict:
    """A draft in its JSON shape, from the cleaned data of a project form and of task forms."""
    return {
        "name": project["name"],
        "description": project["description"],
        "priority": project["priority"],
        "startDate": _iso(project["start_date"]),
        "dueDate": _iso(project["due_date"]),
        "tasks": [_task_json(task) for task in tasks],
    }


def _task_json(cleaned: dict) -> dict:
    hours = cleaned["estimate_hours"]
    return {
        "title": cleaned["title"],
        "description": cleaned["description"],
        "priority": cleaned["priority"],
        "estimateHours": float(hours) if hours is not None else None,
        "dueDate": _iso(cleaned["due_date"]),
    }


def _text(data: dict, key: str, problems: list[str], *, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        problems.append(f"“{key}” must be text.")
        return default
    return value


def _date(data: dict, key: str, problems: list[str]) -> str:
    value = data.get(key)
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    problems.append(f"“{key}” must be a date written YYYY-MM-DD (got {str(value)[:40]!r}).")
    return ""


def _hours(task: dict, problems: list[str]) -> str:
    value = task.get("estimateHours")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append("“estimateHours” must be a number of hours.")
        return ""
    return f"{round(value, 1):g}"


def _form_problems(form: forms.Form, where: str) -> list[str]:
    if form.is_valid():
        return []
    errors: ErrorDict = form.errors
    problems = []
    for field, messages in errors.items():
        label = _LABELS.get(field) or field.replace("_", " ").capitalize()
        for message in messages:
            prefix = f"{where}, {label.lower()}" if where else label
            problems.append(f"{prefix}: {message}")
    return problems


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value else None


def draft_tasks(data: dict, project: Project) -> list[Task]:
    """The draft's tasks as unsaved ``Task`` rows of ``project``, in order."""
    return [
        Task(
            project=project,
            title=task["title"],
            description=task["description"],
            priority=task["priority"],
            estimate_hours=task["estimateHours"],
            due_date=datetime.date.fromisoformat(task["dueDate"]) if task["dueDate"] else None,
            position=position,
        )
        for position, task in enumerate(data["tasks"])
    ]
