"""The offline assistant: deterministic, no network, answers from the project data."""

import asyncio
import datetime
import re
from collections.abc import AsyncIterator

from django.conf import settings

from chat.providers.base import Conversation, ProjectFacts, Provider, ReplyFinished, TaskFacts, TextDelta


class OfflineProvider(Provider):
    """A deterministic assistant that needs no network.

    It answers from the project data in the conversation: the task list,
    what is overdue, a suggested next step. It streams in small chunks like a
    real model, and continues an interrupted reply exactly where it stopped.
    """

    name = "offline"
    label = "Offline assistant"
    model_name = "offline"

    def __init__(self, *, chunk_delay: float = 0.02):
        self.chunk_delay = chunk_delay

    @classmethod
    def from_settings(cls) -> "OfflineProvider":
        return cls(chunk_delay=settings.CHAT_OFFLINE_CHUNK_DELAY)

    async def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        answer = offline_answer(conversation)
        partial = conversation.partial_reply
        remainder = answer[len(partial) :] if answer.startswith(partial) else "\n\n" + answer
        for chunk in re.findall(r"\S*\s*", remainder):
            if not chunk:
                continue
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield TextDelta(chunk)
        yield ReplyFinished(prompt_tokens=None, response_tokens=None)


def offline_answer(conversation: Conversation) -> str:
    """The offline assistant's full reply to the newest message."""
    words = set(re.findall(r"[a-z]+", conversation.message.lower()))
    project = conversation.project
    if project is None:
        return _general_answer(conversation, words)
    if words & {"overdue", "late", "behind", "missed", "slipping"}:
        return _overdue_answer(project, conversation.today)
    if words & {"next", "start", "focus", "first", "priority", "prioritise", "prioritize", "should"}:
        return _next_step_answer(project, conversation.today)
    if words & {"task", "tasks", "list", "todo", "status", "progress", "left", "remaining"}:
        return _task_list_answer(project, conversation.today)
    return _overview_answer(project, conversation.today)


def _describe(task: TaskFacts, today: datetime.date) -> str:
    bits = [task.priority]
    if task.due_date:
        if task.is_overdue:
            days = (today - task.due_date).days
            bits.append(f"**overdue by {days} day{'s' if days != 1 else ''}** (due {task.due_date:%b %-d})")
        else:
            bits.append(f"due {task.due_date:%b %-d}")
    if task.estimate_hours:
        bits.append(f"about {task.estimate_hours:g} h")
    return f"{task.title} — {', '.join(bits)}"


def _next_task(project: ProjectFacts) -> TaskFacts | None:
    rank = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
    candidates = project.open_tasks
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda t: (
            not t.is_overdue,
            t.status != "in-progress",
            rank.get(t.priority, 2),
            t.due_date or datetime.date.max,
        ),
    )


def _task_list_answer(project: ProjectFacts, today: datetime.date) -> str:
    if not project.tasks:
        return (
            f"**{project.name}** has no tasks yet.\n\n"
            "A good start is three to five tasks that each fit in a day or two. "
            "Tell me the goal and I can suggest a breakdown."
        )
    done = len(project.tasks) - len(project.open_tasks)
    lines = [f"**{project.name}**: {done} of {len(project.tasks)} tasks done.", ""]
    for label, status in (("In progress", "in-progress"), ("To do", "todo"), ("Done", "done")):
        group = [task for task in project.tasks if task.status == status]
        if group:
            lines.append(f"### {label}")
            lines += [f"- {_describe(task, today)}" for task in group]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _overdue_answer(project: ProjectFacts, today: datetime.date) -> str:
    overdue = project.overdue_tasks
    if not overdue:
        upcoming = sorted((t for t in project.open_tasks if t.due_date), key=lambda t: t.due_date)
        tail = f" The next due date is **{upcoming[0].title}** on {upcoming[0].due_date:%b %-d}." if upcoming else ""
        return f"Nothing in **{project.name}** is overdue.{tail}\n"
    lines = [f"{len(overdue)} task{'s are' if len(overdue) != 1 else ' is'} overdue in **{project.name}**:", ""]
    lines += [f"- {_describe(task, today)}" for task in sorted(overdue, key=lambda t: t.due_date)]
    lines += [
        "",
        "For each one, either finish it next, move its due date to a date you can keep, "
        "or split off the part that is blocking you.",
    ]
    return "\n".join(lines) + "\n"


def _next_step_answer(project: ProjectFacts, today: datetime.date) -> str:
    task = _next_task(project)
    if task is None:
        if project.tasks:
            return f"Every task in **{project.name}** is done. Review the outcome, then mark the project completed.\n"
        return f"**{project.name}** has no tasks yet. Start by writing down the first concrete step toward the goal.\n"
    reason = (
        "it is overdue"
        if task.is_overdue
        else "it is already in progress"
        if task.status == "in-progress"
        else f"it is the most pressing open task ({task.priority} priority)"
    )
    return (
        f"**Suggested next step:** {task.title}\n\n"
        f"Why: {reason}.\n\n"
        f"- {_describe(task, today)}\n"
        f"- {len(project.open_tasks)} open task{'s' if len(project.open_tasks) != 1 else ''} in total\n\n"
        "Block time for it today and break it down further if it takes more than a day.\n"
    )


def _overview_answer(project: ProjectFacts, today: datetime.date) -> str:
    done = len(project.tasks) - len(project.open_tasks)
    lines = [f"Here is where **{project.name}** stands ({project.status.replace('-', ' ')}):", ""]
    lines.append(f"- Tasks: {done} of {len(project.tasks)} done")
    if project.due_date:
        lines.append(f"- Project due {project.due_date:%b %-d, %Y}")
    if project.overdue_tasks:
        lines.append(f"- Overdue: {', '.join(t.title for t in project.overdue_tasks)}")
    task = _next_task(project)
    if task:
        lines.append(f"- Suggested next step: **{task.title}**")
    lines += ["", 'Ask me "what is overdue?", "what should I do next?" or "list the tasks" for details.']
    return "\n".join(lines) + "\n"


PLANNING_WORDS = {"plan", "planning", "new", "start", "launch", "idea", "goal", "create", "organise", "organize"}
OVERVIEW_WORDS = {"projects", "overview", "status", "overdue", "next", "priority", "priorities", "focus", "today"}


def _general_answer(conversation: Conversation, words: set[str]) -> str:
    projects = conversation.projects
    wants_new_plan = bool(words & PLANNING_WORDS) and not words & OVERVIEW_WORDS
    if not projects or wants_new_plan:
        return (
            "Let's plan it step by step:\n\n"
            "1. **Goal** — write one sentence that says what done looks like.\n"
            "2. **Milestones** — two to four checkpoints on the way there.\n"
            "3. **Tasks** — for each milestone, tasks that fit in a day or two.\n"
            "4. **Dates** — give each milestone a due date and work back from it.\n\n"
            "Create a project, add the tasks, and open its chat: I can then tell you what is overdue "
            "and what to do next.\n"
        )
    lines = ["Your active projects:", "", "| Project | Status | Open tasks | Overdue |", "|---|---|---|---|"]
    for project in projects:
        lines.append(
            f"| {project.name} | {project.status.replace('-', ' ').capitalize()} | {len(project.open_tasks)} | "
            f"{len(project.overdue_tasks)} |"
        )
    urgent = max(projects, key=lambda p: (len(p.overdue_tasks), len(p.open_tasks)))
    lines.append("")
    if urgent.overdue_tasks:
        overdue = len(urgent.overdue_tasks)
        lines.append(
            f"**{urgent.name}** needs attention first: {overdue} {'task is' if overdue == 1 else 'tasks are'} overdue."
        )
    elif urgent.open_tasks:
        lines.append(f"**{urgent.name}** has the most open work; open its chat for a suggested next step.")
    else:
        lines.append("Nothing is open right now: a good moment to plan the next project.")
    return "\n".join(lines) + "\n"
