"""AI changes to a project, as proposals the user accepts or rejects one by one.

The model is asked for ``SCHEMA``: a short summary and a list of changes,
each one of ``add`` (a new task), ``change`` (new values for some fields of
an existing task, named by ``taskId``) or ``remove``. ``proposal_clean``
checks every change against the project as it is now and against the task
form's rules; a proposal with any broken change is refused whole.
"""

import datetime
import math

from projects.forms import TaskForm
from projects.models import Priority, Task

CHANGE_LIMIT = 20
BREAKDOWN_RANGE = (3, 8)
PRIORITIES = [choice.value for choice in Priority]
STATUSES = [choice.value for choice in Task.Status]
#: The task fields a change may set, by their JSON names.
FIELDS = {
    "title": "title",
    "description": "description",
    "priority": "priority",
    "status": "status",
    "estimateHours": "estimate_hours",
    "dueDate": "due_date",
}

_NULLABLE_TEXT = {"type": ["string", "null"]}
SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "One or two sentences: what the changes do and why."},
        "changes": {
            "type": "array",
            "maxItems": CHANGE_LIMIT,
            "items": {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["add", "change", "remove"]},
                    "taskId": {
                        **_NULLABLE_TEXT,
                        "description": "The id of the task to change or remove, as listed; null for add.",
                    },
                    "title": {**_NULLABLE_TEXT, "description": "For add: the title. For change: a new title, or null."},
                    "description": _NULLABLE_TEXT,
                    "priority": {"type": ["string", "null"], "enum": [*PRIORITIES, None]},
                    "status": {"type": ["string", "null"], "enum": [*STATUSES, None]},
                    "estimateHours": {"type": ["number", "null"], "minimum": 0, "maximum": 10000},
                    "dueDate": {**_NULLABLE_TEXT, "description": "YYYY-MM-DD, or null for no change."},
                    "reason": {"type": "string", "description": "Why, in one short sentence."},
                },
                "required": ["action", "taskId", "title", "reason"],
            },
        },
    },
    "required": ["summary", "changes"],
}


class ProposalInvalid(Exception):
    """Proposed changes that break a rule; ``problems`` say how, in plain words."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


def proposal_clean(data: object, *, tasks: list[Task], kind: str, task_id: str = "") -> tuple[str, list[dict]]:
    """The proposal's summary and its changes, each checked against ``tasks`` (the project now).

    A change reads ``{"action", "taskId", "fields", "reason"}`` where
    ``fields`` maps the task's JSON field names to their proposed values
    (only the ones that differ, for a change). Raises ``ProposalInvalid``.
    """
    if not isinstance(data, dict):
        raise ProposalInvalid(["The proposal is not a JSON object."])
    changes = data.get("changes")
    summary = data.get("summary") if isinstance(data.get("summary"), str) else ""
    if not isinstance(changes, list):
        raise ProposalInvalid(["“changes” must be a list."])
    problems: list[str] = []
    if len(changes) > CHANGE_LIMIT:
        problems.append(f"Propose at most {CHANGE_LIMIT} changes; this has {len(changes)}.")
    by_id = {str(task.pk): task for task in tasks}
    cleaned: list[dict] = []
    seen: set[str] = set()
    for number, change in enumerate(changes[:CHANGE_LIMIT], start=1):
        where = f"Change {number}"
        if not isinstance(change, dict):
            problems.append(f"{where} is not a JSON object.")
            continue
        action = change.get("action")
        reason = change.get("reason") if isinstance(change.get("reason"), str) else ""
        if kind == "breakdown" and action != "add":
            problems.append(f"{where}: a breakdown only adds tasks.")
            continue
        if action == "add":
            fields, errors = _task_fields(change, base=None)
            problems += [f"{where}: {error}" for error in errors]
            if not errors:
                cleaned.append({"action": "add", "taskId": "", "fields": fields, "reason": reason[:500]})
            continue
        if action not in ("change", "remove"):
            problems.append(f"{where}: the action must be add, change or remove.")
            continue
        key = str(change.get("taskId") or "")
        task = by_id.get(key)
        if task is None:
            problems.append(f"{where}: there is no task with id {key!r} in this project.")
            continue
        if key in seen:
            problems.append(f"{where}: task {key} is already changed by an earlier change.")
            continue
        seen.add(key)
        if action == "remove":
            cleaned.append({"action": "remove", "taskId": key, "fields": {}, "reason": reason[:500]})
            continue
        fields, errors = _task_fields(change, base=task)
        problems += [f"{where}: {error}" for error in errors]
        if not errors and fields:
            cleaned.append({"action": "change", "taskId": key, "fields": fields, "reason": reason[:500]})
    if kind == "breakdown":
        low, high = BREAKDOWN_RANGE
        if not low <= len(cleaned) <= high and not problems:
            problems.append(f"A breakdown has {low} to {high} tasks; this has {len(cleaned)}.")
    if problems:
        raise ProposalInvalid(problems)
    return summary.strip()[:1000], cleaned


def task_values(task: Task) -> dict:
    """A task's fields in the proposal's JSON names and forms."""
    return {
        "title": task.title,
        "description": task.description,
        "priority": task.priority,
        "status": task.status,
        "estimateHours": float(task.estimate_hours) if task.estimate_hours is not None else None,
        "dueDate": task.due_date.isoformat() if task.due_date else None,
    }


def _task_fields(change: dict, *, base: Task | None) -> tuple[dict, list[str]]:
    """The change's fields checked by the task form (over ``base``'s values); only changed ones for a change."""
    current = (
        task_values(base)
        if base is not None
        else {
            "title": "",
            "description": "",
            "priority": "medium",
            "status": "todo",
            "estimateHours": None,
            "dueDate": None,
        }
    )
    proposed = dict(current)
    errors: list[str] = []
    for name in FIELDS:
        value = change.get(name)
        if value is None:
            continue
        if name == "estimateHours":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                errors.append("the estimate must be a number of hours.")
                continue
            value = round(float(value), 1)
        elif not isinstance(value, str):
            errors.append(f"“{name}” must be text.")
            continue
        elif name == "dueDate":
            try:
                value = datetime.date.fromisoformat(value).isoformat()
            except ValueError:
                errors.append(f"the due date must be written YYYY-MM-DD (got {value[:40]!r}).")
                continue
        proposed[name] = value
    form = TaskForm(
        data={
            "title": proposed["title"],
            "description": proposed["description"],
            "status": proposed["status"],
            "priority": proposed["priority"],
            "due_date": proposed["dueDate"] or "",
            "estimate_hours": "" if proposed["estimateHours"] is None else f"{proposed['estimateHours']:g}",
        }
    )
    if not form.is_valid():
        for field, messages in form.errors.items():
            errors += [f"{field.replace('_', ' ')}: {message}" for message in messages]
    if errors:
        return {}, errors
    if base is None:
        return proposed, []
    return {name: value for name, value in proposed.items() if value != current[name]}, []
