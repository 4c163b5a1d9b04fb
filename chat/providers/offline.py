"""The offline assistant: deterministic, no network, answers from the project data."""

import asyncio
import calendar
import datetime
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace

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
        return _new_project_answer(conversation)
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
    late = sorted((task for task in tasks if _days_late(task, today)), key=lambda task: task.due_date)
    lines = [f"**Status report: {project.name}** ({today:%B %-d, %Y})", ""]
    lines += _report_section(f"**Done:** {len(done)} of {_count(len(tasks), 'task')}", done, lambda t: t.title)
    lines += _report_section(
        f"**In progress:** {_count(len(doing), 'task')}", doing, lambda t: _due_note(t.title, t, today)
    )
    lines += _report_section(
        f"**Overdue:** {_count(len(late), 'task')}",
        late,
        lambda t: f"{t.title} — {_count(_days_late(t, today), 'day')} late (due {t.due_date:%b %-d})",
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
    if days := _days_late(task, today):
        bits.append(f"**{_count(days, 'day')} overdue**")
    elif task.status == "in-progress":
        bits.append("in progress")
    return _due_note(f"{task.title} — {', '.join(bits)}", task, today)


def _due_note(text: str, task: TaskFacts, today: datetime.date) -> str:
    """``text`` followed by the task's due date, when it has one that is not already past."""
    if task.due_date and not _days_late(task, today):
        return f"{text} (due {task.due_date:%b %-d})"
    return text


def _days_late(task: TaskFacts, today: datetime.date) -> int:
    """Days past the due date of an open task; 0 when it is done, undated or not late.

    Counted from the conversation's ``today`` rather than ``is_overdue``, so the
    reports and proposals say the same number of days as the dates they show.
    """
    if task.status == "done" or task.due_date is None or task.due_date >= today:
        return 0
    return (today - task.due_date).days


def _by_urgency(tasks: Iterable[TaskFacts], today: datetime.date) -> list[TaskFacts]:
    """Tasks in the order a planner would take them: overdue first, then by priority, then by due date."""
    return sorted(
        tasks,
        key=lambda task: (
            not _days_late(task, today),
            PRIORITY_RANK.get(task.priority, 2),
            task.due_date or datetime.date.max,
        ),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


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


# --- New project by conversation: a draft read from the user's own words. ---

NEW_PROJECT_CHAT = "new-project"
PRIORITIES = ("low", "medium", "high", "urgent")
LINE_LIMIT = 200  # a project's name or a task's title
TEXT_LIMIT = 5000
TASK_LIMIT = 50
ESTIMATE_LIMIT = 10000
SHORT_NAME_LENGTH = 60
TITLE_LENGTH = 80
HOURS_PER_DAY = 8
FALLBACK_NAME = "New project"


def empty_draft() -> dict:
    """A draft with nothing in it yet, as a new-project chat starts."""
    return {"name": "", "description": "", "priority": "medium", "startDate": None, "dueDate": None, "tasks": []}


@dataclass(frozen=True)
class DraftWords:
    """What the user's messages say about the project, before the user's edits are applied.

    ``statements`` is the text about the project itself (not the tasks): the
    reply uses it to judge whether the goal has been told yet.
    """

    name: str
    description: str
    priority: str
    start_date: datetime.date | None
    due_date: datetime.date | None
    tasks: tuple[dict, ...]
    statements: tuple[str, ...]


def offline_draft(conversation: Conversation, current: dict) -> dict:
    """The project draft the user's words describe, merged into ``current``.

    Only the user's turns count: the model's turns are our own suggestions,
    not decisions. What the user set by hand in ``current`` is kept. An empty
    field is filled only with what is new since the last draft: once a draft
    has been made from the earlier messages, a field still empty, or a task
    missing, is one the user cleared or deleted, and another message must not
    bring it back.
    """
    today = conversation.today
    earlier = [turn.text for turn in conversation.history if turn.role == "user"]
    found = read_draft_words([*earlier, conversation.message], today)
    drafted_before = bool(str(current.get("name") or "").strip() or current.get("tasks"))
    found_before = read_draft_words(earlier if drafted_before else [], today)

    # The fallback name only stands in until the words give one, so it does not count as the user's.
    name = _clip(_text(current.get("name")).strip(), LINE_LIMIT)
    if not name or name == FALLBACK_NAME:
        name = found.name or FALLBACK_NAME
    description = _fill(
        _clip(_text(current.get("description")), TEXT_LIMIT), found.description, found_before.description
    )
    kept_priority = current.get("priority") if current.get("priority") in PRIORITIES else "medium"
    priority = _fill(kept_priority, found.priority, found_before.priority, unset="medium")
    start = _fill(_date(current.get("startDate")), found.start_date, found_before.start_date, unset=None)
    due = _fill(_date(current.get("dueDate")), found.due_date, found_before.due_date, unset=None)
    if start and due and due < start:
        # The words contradict each other or the user's dates: keep the user's and drop the words' one.
        if _date(current.get("startDate")) is None:
            start = None
        else:
            due = None
    return {
        "name": name,
        "description": description,
        "priority": priority,
        "startDate": start.isoformat() if start else None,
        "dueDate": due.isoformat() if due else None,
        "tasks": _merged_tasks(current.get("tasks") or [], found.tasks, found_before.tasks),
    }


def _fill(kept, found, found_before, unset=""):
    """The user's value when set; else the words' value, when it is news since the last draft."""
    if kept != unset:
        return kept
    return found if found != found_before else unset


def _merged_tasks(current_tasks: list, found: tuple[dict, ...], found_before: tuple[dict, ...]) -> list[dict]:
    """The user's tasks as they are, then the tasks for items no draft has offered yet."""
    tasks = [_kept_task(task) for task in current_tasks if isinstance(task, dict)]
    tasks = [task for task in tasks if task["title"]][:TASK_LIMIT]
    seen = {task["title"].casefold() for task in [*tasks, *found_before]}
    for task in found:
        if len(tasks) >= TASK_LIMIT:
            break
        if task["title"].casefold() not in seen:
            seen.add(task["title"].casefold())
            tasks.append(task)
    return tasks


def _kept_task(task: dict) -> dict:
    """One of the user's tasks, unchanged when it is valid, brought within the limits when not."""
    estimate = task.get("estimateHours")
    if isinstance(estimate, bool) or not isinstance(estimate, int | float) or not 0 <= estimate <= ESTIMATE_LIMIT:
        estimate = None
    due = task.get("dueDate")
    return {
        "title": _clip(_text(task.get("title")).strip(), LINE_LIMIT),
        "description": _clip(_text(task.get("description")), TEXT_LIMIT),
        "priority": task.get("priority") if task.get("priority") in PRIORITIES else "medium",
        "estimateHours": estimate,
        "dueDate": due if _date(due) else None,
    }


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _date(value) -> datetime.date | None:
    """A "YYYY-MM-DD" string as a date; anything else as no date."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


# --- Reading the words ---

LIST_ITEM = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s+(?:\[[ xX]?\]\s*)?(?P<item>.*\S)")
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def read_draft_words(messages: list[str], today: datetime.date) -> DraftWords:
    """Name, description, dates, priority and tasks as the messages state them, oldest message first.

    A message with a list gives one task per item; a message without one gives
    one task per sentence that describes work. The first sentence of the first
    message states the project, so it names it and is never a task. Dates and
    priorities inside an item belong to its task; elsewhere, to the project.
    """
    first = next((index for index, message in enumerate(messages) if _opening(message)), None)
    statements: list[str] = []
    items: list[str] = []
    for index, message in enumerate(messages):
        listed, sentences = _list_items(message), _sentences(_prose(message))
        if index == first and (opening := _opening(message)) in sentences:
            sentences.remove(opening)
            statements.append(opening)
        if listed:
            items += listed
            statements += sentences
        else:
            for sentence in sentences:
                (items if _is_work(sentence, today) else statements).append(sentence)
    project_text = "\n".join(statements)
    start, due = _project_dates(project_text, today)
    return DraftWords(
        name=_name(messages, _opening(messages[first]) if first is not None else "", today),
        description=_shorten(_tidy(messages[first]), TEXT_LIMIT, ellipsis=True) if first is not None else "",
        priority=_priority(project_text),
        start_date=start or (today if first is not None else None),
        due_date=due,
        tasks=_tasks(items, today),
        statements=tuple(statements),
    )


def _opening(message: str) -> str:
    """The sentence that states the project: the first that is not a greeting, else the first listed item."""
    sentences = _sentences(_prose(message))
    return next((sentence for sentence in sentences if not _is_chatter(sentence)), "") or next(
        iter(_list_items(message)), ""
    )


def _list_items(message: str) -> list[str]:
    return [match["item"] for line in message.splitlines() if (match := LIST_ITEM.match(line))]


def _prose(message: str) -> str:
    return "\n".join(line for line in message.splitlines() if not LIST_ITEM.match(line))


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in SENTENCE_BREAK.split(text) if sentence.strip()]


def _tidy(text: str) -> str:
    """Text with even spacing: single spaces, no trailing blanks, at most one empty line in a row."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _shorten(text: str, limit: int, *, ellipsis: bool = False) -> str:
    """Text cut to ``limit`` characters at a word boundary when it can be."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1 if ellipsis else limit]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    cut = cut.rstrip(" \n,;:-–—")
    return cut + "…" if ellipsis else cut


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("’", "'"))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- Which sentences are work ---


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


CHATTER = _word_set(
    "hi hello hey thanks thank you ok okay great cool nice perfect yes yeah yep no nope sure sounds looks good "
    "fine awesome that that's is it all for now so well right alright lovely excellent please much very a lot "
    "and the draft"
)
QUESTION = re.compile(r"\?[\s\"'”’)]*$")
STATEMENT = re.compile(
    r"^(?:(?:the|our|my|its)\s+)?(?:goal|aim|idea|point|purpose|vision|objective|outcome|budget|deadline|timeline|"
    r"target|audience|team)\b"
    r"|^(?:done|success|it|this|that|there)(?:'s|\s+is|\s+was|\s+means|\s+will\s+be|\s+would\s+be)\b"
    r"|^(?:i|we)(?:'m|'re|\s+am|\s+are|\s+have|\s+own|\s+run|\s+work|\s+already)\b(?!\s+to\b)",
    re.I,
)
CONSTRAINT = re.compile(
    r"\b(?:budget|afford)\b|[$€£]|\b\d+\s*(?:k|usd|eur|gbp|euros?|dollars?|pounds?)\b"
    r"|\b(?:just|only)\s+(?:me|us|myself)\b|\bby\s+myself\b|\bon\s+my\s+own\b|\balone\b|\bteam\s+of\b",
    re.I,
)
LEAD = re.compile(
    r"^(?:(?:so|ok|okay|well|please|also|and|then|next|first|firstly|secondly|finally|lastly|after\s+that|plus)\b[\s,]*"
    r"|(?:i|we)(?:'d|\s+would)\s+like\s+to\s+"
    r"|(?:i|we)(?:'m|'re|\s+am|\s+are)\s+(?:planning|going|hoping|trying|looking)\s+to\s+"
    r"|(?:i|we)\s+(?:want|need|have|plan|hope|must|should|intend|aim|would\s+like)\s+to\s+"
    r"|(?:i|we)(?:'ll|\s+will|\s+must|\s+should|\s+can)\s+"
    r"|(?:can|could)\s+you\s+help\s+(?:me|us)(?:\s+to)?\s+|help\s+(?:me|us)(?:\s+to)?\s+|let'?s\s+|let\s+us\s+"
    r"|(?:i|we)\s+(?:want|need)\s+)",
    re.I,
)
# Words that carry no work of their own once dates, priorities and estimates are gone.
FILLER = _word_set(
    "it it's this that the a project everything all whole thing needs need to be must should has have will would "
    "done finished ready complete completed live launched shipped delivered due deadline is are by before until till "
    "and i we i'd we'd we're i'm want like at latest ideally hopefully please so on starting start begin from in of "
    "our my go am planning plan aim aiming priority prio very really quite also but date timeline target about around "
    "approx approximately roughly est estimate estimated takes take ~ for no not later than"
)


def _is_work(sentence: str, today: datetime.date) -> bool:
    """Whether a sentence asks for work, rather than asking, chatting, or stating facts, a date or a priority."""
    if QUESTION.search(sentence) or _is_chatter(sentence) or CONSTRAINT.search(sentence):
        return False
    if _is_metadata(sentence, today):
        return False
    return not STATEMENT.search(_without_lead(sentence))


def _is_chatter(sentence: str) -> bool:
    return all(word in CHATTER for word in _words(sentence))


def _is_metadata(text: str, today: datetime.date) -> bool:
    """Whether the text only gives a date, a priority or an estimate (and words that mean nothing without them)."""
    bare = _without_estimates(PRIORITY_WORDS.sub(" ", _without_dates(text, today)))
    if bare == text:
        return False
    return all(word in FILLER for word in _words(bare))


def _without_lead(text: str) -> str:
    """The text without openers like "I need to" or "Then", which a task title does not need."""
    for _ in range(4):
        shorter = LEAD.sub("", text, count=1).lstrip(" ,")
        if shorter == text:
            break
        text = shorter
    return text


# --- Names and titles ---

CALLED = re.compile(
    r"\b(?:called|named|titled)\s+(?:[\"'“‘`](?P<quoted>[^\"'”’`\n]{1,200})[\"'”’`]|(?P<plain>[^\n.,;:!?()\"]{1,200}))",
    re.I,
)
CALLED_STOP = _word_set("that which who where for to by and with so because in on from it is will should but due")
ARTICLE_AND_NOUN = re.compile(r"\b(?:a|an|the|my|our|this|new)\s+[\w-]+\s+$", re.I)
PROJECT_COLON = re.compile(r"\b(?i:project)\s+(?P<name>[A-Z0-9][\w'&.-]*(?:[ \t]+[\w'&.-]+){0,5})[ \t]*:")


def _name(messages: list[str], opening: str, today: datetime.date) -> str:
    """The name the user gives ("called X", "project X:"), else a short one from the opening statement."""
    for message in messages:
        if name := _given_name(message):
            return name
    clause = re.split(r"[,;:(]|\s[-–—]\s", _without_metadata(opening, today), maxsplit=1)[0]
    return _short(_without_lead(clause), SHORT_NAME_LENGTH)


def _given_name(message: str) -> str:
    for match in CALLED.finditer(message):
        if match["quoted"]:
            return _short(match["quoted"], SHORT_NAME_LENGTH)
        words = []
        for word in match["plain"].split()[:6]:
            if word in CALLED_STOP:
                break
            words.append(word)
        name = " ".join(words)
        if name and (name[0].isupper() or ARTICLE_AND_NOUN.search(message[max(0, match.start() - 60) : match.start()])):
            return _short(name, SHORT_NAME_LENGTH)
    if match := PROJECT_COLON.search(message):
        return _short(match["name"], SHORT_NAME_LENGTH)
    return ""


def _short(text: str, limit: int) -> str:
    """A name or title: one line, at most ``limit`` characters, a capital first, no trailing punctuation."""
    text = _shorten(" ".join(text.split()).strip(" \"'“”‘’`"), limit)
    return _capitalised(text.rstrip(" .,;:!?-–—"))


def _tasks(items: list[str], today: datetime.date) -> tuple[dict, ...]:
    """One task per item, in order, without repeated titles."""
    tasks, seen = [], set()
    for item in items:
        task = _task(item, today)
        if task["title"] and task["title"].casefold() not in seen:
            seen.add(task["title"].casefold())
            tasks.append(task)
    return tuple(tasks)


def _task(item: str, today: datetime.date) -> dict:
    """A task from one listed item or sentence; the full text goes to the description when the title is shorter."""
    text = _tidy(item)
    sentences = _sentences(text) or [text]
    title = _without_lead(_without_metadata(sentences[0], today)) or sentences[0]
    shortened = len(sentences) > 1 or len(title) > TITLE_LENGTH
    dates = [mention.date for mention in _date_mentions(text, today) if not mention.starts]
    return {
        "title": _short(title, TITLE_LENGTH),
        "description": _shorten(text, TEXT_LIMIT, ellipsis=True) if shortened else "",
        "priority": _priority(text),
        "estimateHours": _estimate(text),
        "dueDate": dates[0].isoformat() if dates else None,
    }


SEPARATOR = re.compile(r"(\s*[,;:]\s*|\s+[-–—]\s+)")
BRACKETED = re.compile(r"\s*[(\[]([^()\[\]]{0,80})[)\]]")


def _without_metadata(text: str, today: datetime.date) -> str:
    """The text without its dates, and without the priority or estimate notes set apart in brackets or by commas."""
    text = BRACKETED.sub(lambda match: " " if _is_metadata(match[1], today) or not match[1].strip() else match[0], text)
    text = _without_dates(text, today)
    text = re.sub(r"\b(?:asap|(?:high|low|top)[\s-]+priority|nice[\s-]+to[\s-]+have)\b", " ", text, flags=re.I)
    parts = SEPARATOR.split(text)
    while len(parts) > 2 and _is_note(parts[-1], today):
        parts = parts[:-2]
    while len(parts) > 2 and _is_note(parts[0], today):
        parts = parts[2:]
    text = "".join(parts)
    text = re.sub(rf"\s+(?:about\s+|around\s+|~\s*)?{ESTIMATE_PATTERN}[\s.!]*$", "", text, flags=re.I)
    return " ".join(text.split()).strip(" ,;:-–—")


def _is_note(part: str, today: datetime.date) -> bool:
    """Whether a comma-separated part is only a note about priority, date or effort (or empty)."""
    return not _words(part) or _is_metadata(part, today)


# --- Priorities and estimates ---

NOT_NEGATED = r"(?<!not )(?<!n't )"
PRIORITY_LEVELS = (
    ("urgent", re.compile(rf"{NOT_NEGATED}\b(?:urgent(?:ly)?|asap|critical)\b|\bprio(?:rity)?\s*[:=]?\s*urgent\b")),
    (
        "high",
        re.compile(rf"{NOT_NEGATED}\b(?:important|(?:high|top)[\s-]+priority)\b|\bprio(?:rity)?\s*[:=]?\s*high\b"),
    ),
    ("low", re.compile(r"\b(?:low[\s-]+priority|some\s?day|nice[\s-]+to[\s-]+have)\b|\bprio(?:rity)?\s*[:=]?\s*low\b")),
)
PRIORITY_WORDS = re.compile(
    r"\b(?:(?:very|really|super)\s+)?(?:urgent(?:ly)?|asap|critical|important)\b"
    r"|\b(?:high|low|top|medium|normal)[\s-]+priority\b|\bprio(?:rity)?\s*[:=]?\s*(?:low|medium|high|urgent)\b"
    r"|\bsome\s?day\b|\bnice[\s-]+to[\s-]+have\b",
    re.I,
)


def _priority(text: str) -> str:
    lowered = text.lower()
    return next((level for level, pattern in PRIORITY_LEVELS if pattern.search(lowered)), "medium")


NUMBER_WORDS = {
    "a couple of": 2, "couple of": 2, "a few": 3, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
COUNTED = "|".join(sorted((re.escape(word) for word in NUMBER_WORDS if word not in {"a", "an"}), key=len, reverse=True))
# A range ("2-3 hours") counts as its upper end.
ESTIMATE_PATTERN = (
    rf"(?:\d{{1,5}}(?:\.\d+)?\s*(?:-|–|to)\s*)?(?P<amount>\d{{1,5}}(?:\.\d+)?|{COUNTED}|half\s+a)"
    r"\s*(?P<unit>h|hrs?|hours?|min|mins|minutes|days?)\b"
)
ESTIMATE = re.compile(ESTIMATE_PATTERN, re.I)
NOT_EFFORT = re.compile(r"\b(?:in|within|every|per|after|next|the\s+next)\s+$", re.I)


def _estimates(text: str):
    """The effort phrases in the text, leaving out spans of time like "in 2 days"."""
    for match in ESTIMATE.finditer(text):
        if not NOT_EFFORT.search(text[max(0, match.start() - 12) : match.start()]):
            yield match


def _estimate(text: str) -> float | None:
    """Hours of effort from "(3h)", "3 hours" or "2 days" (a working day is 8 hours)."""
    match = next(_estimates(text), None)
    if match is None:
        return None
    amount = match["amount"].lower()
    count = 0.5 if amount.startswith("half") else NUMBER_WORDS.get(amount) or float(amount)
    unit = match["unit"].lower()
    hours = count * HOURS_PER_DAY if unit.startswith("day") else count / 60 if unit.startswith("min") else count
    return min(round(hours, 1), ESTIMATE_LIMIT)


def _without_estimates(text: str) -> str:
    for match in reversed(list(_estimates(text))):
        text = text[: match.start()] + " " + text[match.end() :]
    return text


# --- Dates ---

MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
WEEKDAYS = {name.lower(): number for number, name in enumerate(calendar.day_name)}
MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
WEEKDAY = r"(?P<weekday>" + "|".join(WEEKDAYS) + r")"
YEAR = r"(?:,?\s+(?P<year>\d{4})\b)?"
DATE_PATTERNS = {
    "iso": re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\b"),
    "end_of": re.compile(
        rf"\bend\s+of\s+(?:(?:the|this)\s+(?P<this>month|year)|next\s+(?P<next>month|year)|{MONTH}\b{YEAR})", re.I
    ),
    "month_day": re.compile(rf"\b{MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b{YEAR}", re.I),
    "day_month": re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\b{YEAR}", re.I),
    "in_time": re.compile(
        rf"\b(?:in|within)\s+(?:the\s+next\s+)?(?P<count>\d{{1,3}}|{COUNTED}|an?)\s+(?P<unit>day|week|month|year)s?\b",
        re.I,
    ),
    "next_weekday": re.compile(rf"\bnext\s+{WEEKDAY}\b", re.I),
    "weekday": re.compile(rf"\b(?:by|before|on|until|till|this|due|from|starting|coming)\s+{WEEKDAY}\b", re.I),
    "tomorrow": re.compile(r"\btomorrow\b", re.I),
}
START_LEAD = re.compile(
    r"\b(?:start|starts|starting|started|begin|begins|beginning|kick\s+off|kicks\s+off|kicking\s+off|commencing|from)"
    r"(?:\s+(?:on|in|at|around))?(?:\s+the)?\s*$",
    re.I,
)
DATE_LEAD = re.compile(
    r"(?:\b(?:due|by|before|on|until|till|no\s+later\s+than|starting|start|from|begin|beginning|for|at|this|coming|"
    r"the)\s+){0,3}$",
    re.I,
)


@dataclass(frozen=True)
class DateMention:
    """A date named in the text; ``begin`` and ``end`` include its "by"/"from", so a title can drop it whole."""

    date: datetime.date
    starts: bool
    begin: int
    end: int


def _date_mentions(text: str, today: datetime.date) -> list[DateMention]:
    """The dates the text names, in order, each read relative to ``today``."""
    found = []
    for kind, pattern in DATE_PATTERNS.items():
        for match in pattern.finditer(text):
            day = _resolve(kind, match, today)
            if day is not None:
                begin = match.start("weekday") if kind == "weekday" else match.start()
                found.append((begin, match.end(), day))
    mentions, taken_until = [], 0
    for begin, end, day in sorted(found, key=lambda span: (span[0], -span[1])):
        if begin < taken_until:
            continue
        before = text[max(0, begin - 40) : begin]
        lead = DATE_LEAD.search(before)
        mentions.append(DateMention(day, bool(START_LEAD.search(before)), begin - len(lead[0]), end))
        taken_until = end
    return mentions


def _resolve(kind: str, match: re.Match, today: datetime.date) -> datetime.date | None:
    """The date one matched phrase means, or None when it names no real day."""
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    month = groups.get("month")
    month = (int(month) if month.isdigit() else MONTHS[month.lower().rstrip(".")]) if month else None
    try:
        if kind == "iso":
            return datetime.date(year, month, int(groups["day"]))
        if kind == "end_of":
            return _end_of(groups, year, month, today)
        if kind in ("month_day", "day_month"):
            return _next_day(today, year, month, int(groups["day"]))
        if kind == "in_time":
            return _later(today, groups["count"].lower(), groups["unit"].lower())
        if kind == "next_weekday":
            next_monday = today + datetime.timedelta(days=7 - today.weekday())
            return next_monday + datetime.timedelta(days=WEEKDAYS[groups["weekday"].lower()])
        if kind == "weekday":
            ahead = (WEEKDAYS[groups["weekday"].lower()] - today.weekday()) % 7 or 7
            return today + datetime.timedelta(days=ahead)
        return today + datetime.timedelta(days=1)
    except (ValueError, OverflowError):
        return None


def _end_of(groups: dict, year: int | None, month: int | None, today: datetime.date) -> datetime.date:
    """The last day of the month or year named: "the end of March" is the next March that is not over yet."""
    if groups.get("this") == "month":
        return _month_end(today.year, today.month)
    if groups.get("this") == "year":
        return datetime.date(today.year, 12, 31)
    if groups.get("next") == "month":
        return _month_end(*_month_after(today.year, today.month, 1))
    if groups.get("next") == "year":
        return datetime.date(today.year + 1, 12, 31)
    if year is not None:
        return _month_end(year, month)
    this_year = _month_end(today.year, month)
    return this_year if this_year >= today else _month_end(today.year + 1, month)


def _next_day(today: datetime.date, year: int | None, month: int, day: int) -> datetime.date | None:
    """The date in the year given, else the next one not in the past (February 29 waits for a leap year)."""
    if year is not None:
        return datetime.date(year, month, day)
    for candidate_year in range(today.year, today.year + 5):
        try:
            candidate = datetime.date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _later(today: datetime.date, count: str, unit: str) -> datetime.date:
    """The date "in 3 weeks" or "within two months" from today."""
    number = int(count) if count.isdigit() else NUMBER_WORDS[count]
    if unit in ("day", "week"):
        return today + datetime.timedelta(days=number * (7 if unit == "week" else 1))
    year, month = _month_after(today.year, today.month, number * (12 if unit == "year" else 1))
    return datetime.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _month_after(year: int, month: int, months: int) -> tuple[int, int]:
    index = month - 1 + months
    return year + index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _without_dates(text: str, today: datetime.date) -> str:
    for mention in reversed(_date_mentions(text, today)):
        text = text[: mention.begin] + " " + text[mention.end :]
    return text


def _project_dates(text: str, today: datetime.date) -> tuple[datetime.date | None, datetime.date | None]:
    """The start and due dates the project text names; when it names several, the user's latest word counts."""
    mentions = _date_mentions(text, today)
    starts = [mention.date for mention in mentions if mention.starts]
    dues = [mention.date for mention in mentions if not mention.starts]
    return (starts[-1] if starts else None), (dues[-1] if dues else None)


# --- The planner's reply in a new-project chat ---


#: A reply lists this many tasks at most, so it stays short; the draft beside the chat shows them all.
LISTED_TASKS = 10


def _new_project_answer(conversation: Conversation) -> str:
    """What the draft now holds, then the one or two things a planner would ask next."""
    draft = offline_draft(conversation, empty_draft())
    messages = [turn.text for turn in conversation.history if turn.role == "user"] + [conversation.message]
    words = read_draft_words(messages, conversation.today)
    due = _date(draft["dueDate"])
    opening = f"I've {'updated the' if conversation.history else 'started a'} draft for **{draft['name']}**"
    opening += f", due **{due:%B %-d, %Y}**." if due else "."
    lines = [opening, ""]
    if draft["tasks"]:
        lines += ["Tasks in the draft:", ""]
        shown = draft["tasks"][:LISTED_TASKS]
        lines += [f"{number}. {_task_line(task)}" for number, task in enumerate(shown, 1)]
        if len(draft["tasks"]) > len(shown):
            lines += ["", f"…and {len(draft['tasks']) - len(shown)} more."]
    else:
        lines.append("There are no tasks in the draft yet.")
    lines += ["", *_questions(draft, words, messages), ""]
    lines.append(
        "The draft beside the chat is yours to edit; when it looks right, press **Create project** to make it."
    )
    return "\n".join(lines) + "\n"


def _task_line(task: dict) -> str:
    notes = [f"{task['priority']} priority"] if task["priority"] != "medium" else []
    if due := _date(task["dueDate"]):
        notes.append(f"due {due:%b %-d}")
    if task["estimateHours"] is not None:
        notes.append(f"about {task['estimateHours']:g} h")
    return task["title"] + (f" ({', '.join(notes)})" if notes else "")


#: Words of their own (beyond dates and filler) the user must have said about the project before its goal is clear.
GOAL_WORDS = 8


def _goal_words(statements: tuple[str, ...]) -> int:
    """How many words of substance the user said about the project itself, leaving out questions and filler."""
    told = " ".join(statement for statement in statements if not QUESTION.search(statement))
    return sum(word not in FILLER and word not in CHATTER for word in _words(told))


def _questions(draft: dict, words: DraftWords, messages: list[str]) -> list[str]:
    """What is still missing, asked as a planner would: the goal, the deadline, the steps; then the constraints."""
    questions = []
    if _goal_words(words.statements) < GOAL_WORDS:
        questions.append('- **Goal:** what is it for, and what does "done" look like?')
    if not draft["dueDate"]:
        questions.append("- **Deadline:** when does it need to be finished?")
    if not draft["tasks"]:
        questions.append("- **Steps:** what are the main steps to get there? A short list works best.")
    if questions:
        return ["To shape the plan, tell me:", "", *questions]
    if any(CONSTRAINT.search(message) for message in messages):
        return ["Anything else to plan around, such as risks or who does which task?"]
    return ["Any constraints to plan around: a budget, or how many people will work on it?"]


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
            changes.append(_change(task.id, fields, _capitalised("; ".join(reasons)) + "."))
        if len(changes) == PROPOSAL_LIMIT:
            break
    return {"summary": _review_summary(rescheduled, raised, estimated), "changes": changes}


def _reschedule(task: TaskFacts, project: ProjectFacts, today: datetime.date) -> tuple[dict, str] | None:
    """A new due date for an overdue task (and high priority, when it sat lower), with the reason; else None."""
    days = _days_late(task, today)
    if not days:
        return None
    due, when = _new_due_date(project, today)
    fields = {"dueDate": due.isoformat()}
    reason = f"it is {_count(days, 'day')} overdue, so it moves to {when}"
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
        parts.append(f"new due dates for {_count(rescheduled, 'overdue task')}")
        if raised:
            parts[-1] += f" ({raised} raised to high priority)"
    if estimated:
        parts.append(f"estimates for {_count(estimated, 'task')} without one")
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
    reason = f"All {_count(len(project.tasks), 'task')} are done; a review closes the work and sets up what is next."
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
    name = _shorten(parent.title, TITLE_LENGTH, ellipsis=True)
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
        (_list_items(parent.description), "from the items in its description"),
        (_sentences(_prose(parent.description)), "from the sentences of its description"),
    ):
        steps = _step_titles(items)
        if len(steps) >= low:
            if len(steps) > high:
                source += f" (the first {high} of {len(steps)})"
            return steps[:high], source
    room = LINE_LIMIT - max(len(phase) for phase, _ in PHASES) - 2
    title = _shorten(parent.title, room, ellipsis=True)
    return [(f"{phase}: {title}", detail) for phase, detail in PHASES], "following the usual phases of the work"


def _step_titles(items: list[str]) -> list[tuple[str, str]]:
    """Items as step titles (the full text as the description when the title had to be cut), repeats dropped."""
    steps, seen = [], set()
    for item in items:
        text = re.sub(r"\s+", " ", item).strip().rstrip(".;,:")
        if not text or text.casefold() in seen:
            continue
        seen.add(text.casefold())
        title = _capitalised(_shorten(text, LINE_LIMIT, ellipsis=True))
        steps.append((title, text[:TEXT_LIMIT] if title != _capitalised(text) else ""))
    return steps
