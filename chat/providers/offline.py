"""The offline assistant: deterministic, no network, answers from the project data.

Its planning answers, status reports and proposals work from the project's
tasks; its new-project chat and drafts read the user's own words
(``offline_drafts``).
"""

import asyncio
import datetime
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace

from django.conf import settings

from chat.providers.base import Conversation, ProjectFacts, Provider, ReplyFinished, TaskFacts, TextDelta
from chat.providers.offline_drafts import (
    LINE_LIMIT,
    NEW_PROJECT_CHAT,
    TEXT_LIMIT,
    TITLE_LENGTH,
    capitalised,
    counted,
    days_late,
    list_items,
    new_project_answer,
    offline_draft,
    prose,
    shorten,
    split_sentences,
)
from chat.providers.offline_navigation import NAVIGATION_CHAT, navigation_answer


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

    async def propose_changes(
        self, conversation: Conversation, *, kind: str, task_id: str = "", problem: str = ""
    ) -> dict:
        # The proposal is built by rules that keep to the schema, so there is never an answer to repair:
        # ``problem`` is unused.
        if conversation.project is None:
            return {"summary": "There is no project in this chat to change.", "changes": []}
        return offline_proposal(conversation.project, kind=kind, task_id=task_id, today=conversation.today)

    async def draft_project(self, conversation: Conversation, *, current: dict, problem: str = "") -> dict:
        # The draft is built by rules, so there is never a previous answer to repair: ``problem`` is unused.
        # A drafting conversation ends with the request to draft: the user's newest words are the last
        # user turn before it.
        turns = list(conversation.history)
        newest = max((index for index, turn in enumerate(turns) if turn.role == "user"), default=None)
        if newest is not None:
            conversation = replace(conversation, history=tuple(turns[:newest]), message=turns[newest].text)
        return offline_draft(conversation, current)


def offline_answer(conversation: Conversation) -> str:
    """The offline assistant's full reply to the newest message."""
    if conversation.chat_type == NEW_PROJECT_CHAT:
        return new_project_answer(conversation)
    if conversation.chat_type == NAVIGATION_CHAT:
        return navigation_answer(conversation)
    words = set(re.findall(r"[a-z]+", conversation.message.lower()))
    project = conversation.project
    if project is None:
        return _general_answer(conversation, words)
    if words & REPORT_WORDS:
        return _status_report(project, conversation.today)
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


#: Words that ask for a status report ("summarise where we are", "write a status report").
REPORT_WORDS = {"summarise", "summarize", "summary", "report"}
#: How many titles a report section lists before it says how many more there are.
REPORT_LISTED = 5
REPORT_NEXT_STEPS = 3
PRIORITY_RANK = {"urgent": 0, "high": 1, "medium": 2, "low": 3}


def _status_report(project: ProjectFacts, today: datetime.date) -> str:
    """A short status report the user can paste into an update: what is done, under way, late, and next."""
    tasks = project.tasks
    if not tasks:
        return (
            f"**{project.name}** has no tasks yet, so there is nothing to report. "
            "Add the first few steps and ask again.\n"
        )
    done = [task for task in tasks if task.status == "done"]
    doing = [task for task in tasks if task.status == "in-progress"]
    late = sorted((task for task in tasks if days_late(task, today)), key=lambda task: task.due_date)
    lines = [f"**Status report: {project.name}** ({today:%B %-d, %Y})", ""]
    lines += _report_section(f"**Done:** {len(done)} of {counted(len(tasks), 'task')}", done, lambda t: t.title)
    lines += _report_section(
        f"**In progress:** {counted(len(doing), 'task')}", doing, lambda t: _due_note(t.title, t, today)
    )
    lines += _report_section(
        f"**Overdue:** {counted(len(late), 'task')}",
        late,
        lambda t: f"{t.title} — {counted(days_late(t, today), 'day')} late (due {t.due_date:%b %-d})",
    )
    lines += ["**Next steps:**", ""]
    upcoming = _by_urgency(project.open_tasks, today)[:REPORT_NEXT_STEPS]
    if upcoming:
        lines += [f"{number}. {_next_step_line(task, today)}" for number, task in enumerate(upcoming, 1)]
    else:
        lines.append("Every task is done: review the outcome and plan what comes next.")
    return "\n".join(lines) + "\n"


def _report_section(heading: str, tasks: list[TaskFacts], line) -> list[str]:
    """A heading with a bullet per task, at most ``REPORT_LISTED`` of them so the report stays short."""
    if not tasks:
        return [heading, ""]
    bullets = [f"- {line(task)}" for task in tasks[:REPORT_LISTED]]
    if len(tasks) > REPORT_LISTED:
        bullets.append(f"- …and {len(tasks) - REPORT_LISTED} more")
    return [heading, "", *bullets, ""]


def _next_step_line(task: TaskFacts, today: datetime.date) -> str:
    bits = [f"{task.priority} priority"]
    if days := days_late(task, today):
        bits.append(f"**{counted(days, 'day')} overdue**")
    elif task.status == "in-progress":
        bits.append("in progress")
    return _due_note(f"{task.title} — {', '.join(bits)}", task, today)


def _due_note(text: str, task: TaskFacts, today: datetime.date) -> str:
    """``text`` followed by the task's due date, when it has one that is not already past."""
    if task.due_date and not days_late(task, today):
        return f"{text} (due {task.due_date:%b %-d})"
    return text


def _by_urgency(tasks: Iterable[TaskFacts], today: datetime.date) -> list[TaskFacts]:
    """Tasks in the order a planner would take them: overdue first, then by priority, then by due date."""
    return sorted(
        tasks,
        key=lambda task: (
            not days_late(task, today),
            PRIORITY_RANK.get(task.priority, 2),
            task.due_date or datetime.date.max,
        ),
    )


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


# --- Proposed changes to a project the user already has ---

#: A planner's review proposes a handful of changes, not a rewrite.
PROPOSAL_LIMIT = 8
ESTIMATE_PROPOSALS = 3
RESCHEDULE_DAYS = 7
QUICK_HOURS, USUAL_HOURS, LARGE_HOURS = 2.0, 4.0, 8.0
QUICK_WORK = re.compile(r"\b(?:call|phone|e-?mail|review|reply|check|read|send|confirm|book)(?:s|es|ed|ing)?\b", re.I)
LARGE_WORK = re.compile(
    r"\b(?:build|built|implement|implementation|design|develop|development|redesign|migrate|migration|refactor)"
    r"(?:s|ed|ing)?\b",
    re.I,
)
REVIEW_TITLE = "Review the outcome and plan next steps"
FIRST_STEPS_TITLE = "Write down the first steps toward the goal"
PHASES = (
    ("Research", "Gather what the task needs: facts, examples, constraints and who to ask."),
    ("Draft", "Make a first complete version, rough edges and all."),
    ("Review", "Check the draft against what the task asks for and collect feedback."),
    ("Finish", "Make the final changes and wrap the task up."),
)
STEP_RANGE = (3, 8)
CHANGE_FIELDS = ("title", "description", "priority", "status", "estimateHours", "dueDate")


def offline_proposal(project: ProjectFacts, *, kind: str, task_id: str = "", today: datetime.date) -> dict:
    """Changes to ``project`` in the shape of ``projects.proposals.SCHEMA``, made by rules from its data.

    ``kind`` is ``"changes"`` (a planner's review of the whole project) or
    ``"breakdown"`` (the task ``task_id`` split into steps). Deterministic, so
    the same project on the same day always gets the same proposal.
    """
    if kind == "breakdown":
        return _breakdown(project, task_id)
    if kind == "changes":
        return _review(project, today)
    raise ValueError(f"Unknown kind of proposal: {kind!r}")


def _change(task_id: str, fields: dict, reason: str) -> dict:
    """A change to one task: the fields given, null (no change) for the rest."""
    return {"action": "change", "taskId": task_id, **dict.fromkeys(CHANGE_FIELDS), **fields, "reason": reason}


def _addition(fields: dict, reason: str) -> dict:
    """A new task: every field stated, so the task is exactly what the user reviews."""
    task = {"title": "", "description": "", "priority": "medium", "status": "todo", "estimateHours": None}
    return {"action": "add", "taskId": None, **task, "dueDate": None, **fields, "reason": reason}


def _review(project: ProjectFacts, today: datetime.date) -> dict:
    """A planner's review: overdue tasks rescheduled (and raised), missing estimates filled in, what comes next."""
    if not project.open_tasks:
        return _after_last_task(project, today)
    changes, rescheduled, raised, estimated = [], 0, 0, 0
    for task in _by_urgency((task for task in project.open_tasks if task.id), today):
        fields, reasons = {}, []
        if late := _reschedule(task, project, today):
            fields.update(late[0])
            reasons.append(late[1])
            rescheduled += 1
            raised += "priority" in late[0]
        if task.estimate_hours is None and estimated < ESTIMATE_PROPOSALS:
            hours, kind_of_work = _work_hours(task.title)
            fields["estimateHours"] = hours
            reasons.append(f"it has no estimate, and about {hours:g} h is usual for {kind_of_work}")
            estimated += 1
        if fields:
            changes.append(_change(task.id, fields, capitalised("; ".join(reasons)) + "."))
        if len(changes) == PROPOSAL_LIMIT:
            break
    return {"summary": _review_summary(rescheduled, raised, estimated), "changes": changes}


def _reschedule(task: TaskFacts, project: ProjectFacts, today: datetime.date) -> tuple[dict, str] | None:
    """A new due date for an overdue task (and high priority, when it sat lower), with the reason; else None."""
    days = days_late(task, today)
    if not days:
        return None
    due, when = _new_due_date(project, today)
    fields = {"dueDate": due.isoformat()}
    reason = f"it is {counted(days, 'day')} overdue, so it moves to {when}"
    if PRIORITY_RANK.get(task.priority, 2) > PRIORITY_RANK["high"]:
        fields["priority"] = "high"
        reason += ", and up to high priority so it is not missed again"
    return fields, reason


def _new_due_date(project: ProjectFacts, today: datetime.date) -> tuple[datetime.date, str]:
    """A week from today, or the project's own due date when that comes sooner (and is still ahead)."""
    due = today + datetime.timedelta(days=RESCHEDULE_DAYS)
    if project.due_date and today < project.due_date < due:
        return project.due_date, f"the project's due date ({project.due_date:%b %-d})"
    return due, f"a week from today ({due:%b %-d})"


def _work_hours(title: str) -> tuple[float, str]:
    """An estimate from the kind of work the title names, and that kind; the verb named first decides."""
    quick, large = QUICK_WORK.search(title), LARGE_WORK.search(title)
    if quick and (not large or quick.start() < large.start()):
        return QUICK_HOURS, "a short task such as a call, email or review"
    if large:
        return LARGE_HOURS, "build, implementation or design work"
    return USUAL_HOURS, "a task of ordinary size"


def _review_summary(rescheduled: int, raised: int, estimated: int) -> str:
    parts = []
    if rescheduled:
        parts.append(f"new due dates for {counted(rescheduled, 'overdue task')}")
        if raised:
            parts[-1] += f" ({raised} raised to high priority)"
    if estimated:
        parts.append(f"estimates for {counted(estimated, 'task')} without one")
    if not parts:
        return "The plan looks in order: nothing is overdue and every open task has an estimate."
    return "Proposed: " + " and ".join(parts) + "."


def _after_last_task(project: ProjectFacts, today: datetime.date) -> dict:
    """With nothing left open, the one change worth proposing is the step that comes next."""
    due, _ = _new_due_date(project, today)
    if not project.tasks:
        reason = "The project has no tasks yet; writing down the first steps turns the goal into a plan."
        fields = {"title": FIRST_STEPS_TITLE, "priority": "high", "dueDate": due.isoformat()}
        return {"summary": "Proposed: a first task to plan the work.", "changes": [_addition(fields, reason)]}
    if any(task.title.casefold() == REVIEW_TITLE.casefold() for task in project.tasks):
        return {"summary": "The plan looks in order: every task is done, the review included.", "changes": []}
    hours, _ = _work_hours(REVIEW_TITLE)
    fields = {"title": REVIEW_TITLE, "estimateHours": hours, "dueDate": due.isoformat()}
    reason = f"All {counted(len(project.tasks), 'task')} are done; a review closes the work and sets up what is next."
    if len(project.tasks) == 1:
        reason = "The only task is done; a review closes the work and sets up what is next."
    return {"summary": "Proposed: a review, since every task is done.", "changes": [_addition(fields, reason)]}


def _breakdown(project: ProjectFacts, task_id: str) -> dict:
    """3 to 8 new tasks that split one task into steps, each within the task's priority, estimate and date."""
    parent = next((task for task in project.tasks if task.id and task.id == str(task_id)), None)
    if parent is None:
        return {"summary": f"There is no task with id {task_id!r} in this project to break down.", "changes": []}
    steps, source = _steps(parent)
    hours = round(parent.estimate_hours / len(steps), 1) if parent.estimate_hours is not None else None
    name = shorten(parent.title, TITLE_LENGTH, ellipsis=True)
    changes = [
        _addition(
            {
                "title": title,
                "description": detail,
                "priority": parent.priority,
                "estimateHours": hours,
                "dueDate": parent.due_date.isoformat() if parent.due_date else None,
            },
            f"Step {number} of {len(steps)} toward “{name}”.",
        )
        for number, (title, detail) in enumerate(steps, 1)
    ]
    return {"summary": f"“{name}” split into {len(steps)} steps {source}.", "changes": changes}


def _steps(parent: TaskFacts) -> tuple[list[tuple[str, str]], str]:
    """Each step's title and description, and where they came from.

    The user's own words win: the description's list items, else its
    sentences, when there are enough of them to be a breakdown; otherwise the
    phases most work goes through, worded for the task.
    """
    low, high = STEP_RANGE
    for items, source in (
        (list_items(parent.description), "from the items in its description"),
        (split_sentences(prose(parent.description)), "from the sentences of its description"),
    ):
        steps = _step_titles(items)
        if len(steps) >= low:
            if len(steps) > high:
                source += f" (the first {high} of {len(steps)})"
            return steps[:high], source
    room = LINE_LIMIT - max(len(phase) for phase, _ in PHASES) - 2
    title = shorten(parent.title, room, ellipsis=True)
    return [(f"{phase}: {title}", detail) for phase, detail in PHASES], "following the usual phases of the work"


def _step_titles(items: list[str]) -> list[tuple[str, str]]:
    """Items as step titles (the full text as the description when the title had to be cut), repeats dropped."""
    steps, seen = [], set()
    for item in items:
        text = re.sub(r"\s+", " ", item).strip().rstrip(".;,:")
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        title = capitalised(shorten(text, LINE_LIMIT, ellipsis=True))
        steps.append((title, text[:TEXT_LIMIT] if title != capitalised(text) else ""))
    return steps
