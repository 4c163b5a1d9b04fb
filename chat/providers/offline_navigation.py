"""The navigation assistant's offline answers: where things are, in the app and in the user's own work.

Deterministic and without network, like the rest of the offline assistant. It reads the words of the
question and answers from the conversation's facts: the user's projects with their open tasks, the
project on the page the question was asked from, and the site's pages. Every link it writes is a url
taken from those facts, never one it makes up; an answer that points to one place holds a single link,
so the panel can offer a single button to go there.
"""

import datetime
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import TypeVar

from chat.providers.base import Conversation, ProjectFacts, SitePage, TaskFacts
from chat.providers.offline_drafts import counted, days_late, word_set

NAVIGATION_CHAT = "navigation"
#: How many tasks or projects a list shows before it says how many more there are.
LIST_LIMIT = 10
#: How far ahead "due soon" looks.
SOON_DAYS = 7

OVERDUE_WORDS = word_set("overdue late behind missed slipping lapsed")
DUE_WORDS = word_set("due soon upcoming deadline deadlines coming")
LEFT_WORDS = word_set("left remain remains remaining status progress outstanding unfinished")
NAV_WORDS = word_set("open go show where find take see get jump navigate bring view visit link")
#: Words that ask what kind of answer is wanted rather than name a page, project or task.
INTENT_WORDS = OVERDUE_WORDS | DUE_WORDS | LEFT_WORDS | word_set("today tomorrow week next day days here")
#: Words that say what kind of thing is meant ("the bakery project") rather than which one.
GENERIC_WORDS = word_set("project projects task tasks page pages board list thing things")
STOP_WORDS = word_set(
    "a an the to of in on into for at by with and or my me i is are am be was do does can could would will should "
    "you your please how what which when who why it its s t m ll d re ve there that this any anything some we our "
    "us want need like about from up now just"
)

#: How well a name matches the question: exact, contained, every word, some distinctive word.
EXACT, CONTAINS, ALL_WORDS, SOME_WORD = range(4)

Item = TypeVar("Item")
#: The dates a question asks about, first and last, and how to say them ("this week (through Sun Feb 15)").
Window = tuple[datetime.date, datetime.date, str]


@dataclass(frozen=True)
class Question:
    """The user's question as word lists: every word, and those that may name a page, project or task."""

    words: frozenset[str]
    #: The words that may name something, in order: no stop words, and not "project" or "task".
    terms: tuple[str, ...]
    #: The terms that are not verbs of going somewhere, question kinds or numbers.
    key: tuple[str, ...]
    here: bool
    about_app: bool

    @classmethod
    def read(cls, text: str) -> "Question":
        words = _words(text)
        terms = tuple(word for word in words if word not in STOP_WORDS | GENERIC_WORDS)
        key = tuple(word for word in terms if word not in NAV_WORDS | INTENT_WORDS and not word.isdigit())
        unique = frozenset(words)
        here = "here" in unique or re.search(r"\bthis (?:project|board)\b", text.lower()) is not None
        about_app = "how" in unique or ("where" in unique and bool(unique & {"i", "do", "can", "should"}))
        return cls(unique, terms, key, here, about_app)


def navigation_answer(conversation: Conversation) -> str:
    """The navigation assistant's offline reply to the newest message, as Markdown."""
    question = Question.read(conversation.message)
    if question.words & OVERDUE_WORDS:
        return _overdue_answer(conversation, question)
    if window := _window(conversation.message, conversation.today):
        return _due_answer(conversation, question, window)
    if question.words & LEFT_WORDS and (project := _left_project(conversation, question)):
        return _left_answer(project, conversation.today)
    if answer := _destination_answer(conversation, question):
        return answer
    if conversation.project and question.here:
        return _left_answer(conversation.project, conversation.today)
    return _fallback(conversation)


# --- What is overdue, and what is due when ------------------------------------------


def _overdue_answer(conversation: Conversation, question: Question) -> str:
    today = conversation.today
    projects, where = _scope(conversation, question)
    late = [(project, task) for project in projects for task in project.open_tasks if days_late(task, today)]
    if not late:
        return f"Nothing is overdue {where}.\n"
    late.sort(key=lambda pair: pair[1].due_date)
    heading = f"{counted(len(late), 'task')} overdue {where}, most overdue first:"
    return _task_list(heading, late, conversation, projects)


def _due_answer(conversation: Conversation, question: Question, window: Window) -> str:
    start, end, when = window
    today = conversation.today
    projects, where = _scope(conversation, question)
    pairs = [(project, task) for project in projects for task in project.open_tasks]
    due = sorted(((p, t) for p, t in pairs if t.due_date and start <= t.due_date <= end), key=lambda p: p[1].due_date)
    late = sum(1 for _, task in pairs if days_late(task, today))
    note = [f"Also {counted(late, 'task')} overdue: ask “what is overdue?” to see them."] if late else []
    if not due:
        return "\n\n".join([f"Nothing is due {when} {where}.", *note]) + "\n"
    return _task_list(f"{counted(len(due), 'task')} due {when} {where}:", due, conversation, projects, note)


def _window(text: str, today: datetime.date) -> Window | None:
    """The dates a question about what is due asks for; None if it asks for none."""
    lowered = text.lower()
    words = set(_words(text))
    day = datetime.timedelta(days=1)
    if "today" in words:
        return today, today, "today"
    if "tomorrow" in words:
        return today + day, today + day, "tomorrow"
    if match := re.search(r"\b(\d{1,3}) days?\b", lowered):
        end = today + int(match.group(1)) * day
        return today, end, f"in the next {counted(int(match.group(1)), 'day')} (through {end:%a %b %-d})"
    if re.search(r"\bnext week\b", lowered):
        monday = today + (7 - today.weekday()) * day
        return monday, monday + 6 * day, f"next week ({monday:%b %-d}–{monday + 6 * day:%b %-d})"
    if "week" in words:
        sunday = today + (6 - today.weekday()) * day
        return today, sunday, f"this week (through {sunday:%a %b %-d})"
    if words & DUE_WORDS:
        end = today + SOON_DAYS * day
        return today, end, f"in the next {SOON_DAYS} days (through {end:%a %b %-d})"
    return None


def _scope(conversation: Conversation, question: Question) -> tuple[list[ProjectFacts], str]:
    """The projects a question about dates is about, and how to say where: here, the ones it names, or all."""
    if conversation.project and question.here:
        return [conversation.project], f"in {_bold(conversation.project.name)}"
    if named := _named_projects(conversation, question):
        return named, "in " + " and ".join(_bold(project.name) for project in named)
    return _projects(conversation), "across your projects"


def _task_list(
    heading: str,
    pairs: list[tuple[ProjectFacts, TaskFacts]],
    conversation: Conversation,
    projects: list[ProjectFacts],
    tail: Iterable[str] = (),
) -> str:
    """A bullet per task under ``heading``, capped, and where to see the rest; projects named if there are several."""
    several = len(projects) > 1
    lines = [heading, ""]
    lines += [f"- {_task_line(task, conversation.today, p.name if several else '')}" for p, task in pairs[:LIST_LIMIT]]
    if len(pairs) > LIST_LIMIT:
        where = _page_link(conversation.pages, "Dashboard") if several else _link(projects[0].name, projects[0].url)
        lines.append(f"- …and {len(pairs) - LIST_LIMIT} more: see {where}.")
    if tail:
        lines += ["", *tail]
    return "\n".join(lines) + "\n"


def _task_line(task: TaskFacts, today: datetime.date, project_name: str = "") -> str:
    bits = [bit for bit in (_plain(project_name), _when(task, today)) if bit]
    return " — ".join([_link(task.title, task.url), ", ".join(bits)]) if bits else _link(task.title, task.url)


def _when(task: TaskFacts, today: datetime.date) -> str:
    """How late the task is, or when it is due; empty when it has no due date."""
    if days := days_late(task, today):
        return f"**overdue by {counted(days, 'day')}** (due {task.due_date:%b %-d})"
    if not task.due_date:
        return ""
    days = (task.due_date - today).days
    return {0: "due today", 1: "due tomorrow"}.get(days, f"due {task.due_date:%a %b %-d}")


# --- What is left in one project --------------------------------------------------


def _left_project(conversation: Conversation, question: Question) -> ProjectFacts | None:
    """The project a "what's left" question is about: the one here, unless it names another; None if unclear."""
    named = _named_projects(conversation, question)
    if conversation.project and (question.here or not named):
        return conversation.project
    return named[0] if len(named) == 1 else None


def _left_answer(project: ProjectFacts, today: datetime.date) -> str:
    """The project's open tasks by status, in progress first and overdue first within each, and its board."""
    board = _link(f"Open the {project.name} board", project.url)
    open_tasks = project.open_tasks
    if not open_tasks:
        done = "every task is done" if project.tasks else "it has no open tasks"
        return f"Nothing is left in {_bold(project.name)}: {done}. {board}\n"
    order = list(dict.fromkeys(["in-progress", *(task.status for task in open_tasks)]))
    ranked = sorted(
        open_tasks,
        key=lambda t: (order.index(t.status), not days_late(t, today), t.due_date or datetime.date.max),
    )
    late = sum(1 for task in open_tasks if days_late(task, today))
    lines = [f"{_bold(project.name)}: {counted(len(open_tasks), 'open task')}, {late} overdue.", ""]
    for _, group in groupby(ranked[:LIST_LIMIT], key=lambda task: task.status):
        tasks = list(group)
        lines += [f"**{tasks[0].status_label}**", "", *(f"- {_task_line(task, today)}" for task in tasks), ""]
    if len(ranked) > LIST_LIMIT:
        lines += [f"…and {len(ranked) - LIST_LIMIT} more on the board.", ""]
    return "\n".join([*lines, board]) + "\n"


# --- Where a page, project or task is ------------------------------------------------


def _destination_answer(conversation: Conversation, question: Question) -> str | None:
    """One link to the page, project or task the question names; a list when several match; None if none does."""
    page = _best_page(conversation.pages, question)
    # A question about the app itself ("how do I ...") is about its page, whatever project shares a word with it.
    if question.key and not (page and question.about_app) and (found := _found_answer(conversation, question)):
        return found
    if page:
        return f"{_link(page.title, page.url)}: {page.about}\n"
    if question.key and question.words & NAV_WORDS:
        projects = _page_link(conversation.pages, "Projects")
        return (
            f"I couldn't find a page, project or task called “{' '.join(question.key)}”. {projects} lists them all.\n"
        )
    return None


def _found_answer(conversation: Conversation, question: Question) -> str | None:
    today = conversation.today
    project_tier, projects = _best(_projects(conversation), lambda project: project.name, question)
    # Every task the facts hold: the open ones of every project, and the done ones of the project here too.
    every_task = [(project, task) for project in _projects(conversation) for task in project.tasks]
    task_tier, pairs = _best(every_task, lambda pair: pair[1].title, question)
    if projects and project_tier <= task_tier:
        if len(projects) == 1:
            project = projects[0]
            return f"Here is {_link(project.name, project.url)}.\n\n{_project_summary(project, today)}\n"
        lines = [f"{len(projects)} projects match:", ""]
        lines += [f"- {_link(p.name, p.url)} — {_project_summary(p, today)}" for p in projects[:LIST_LIMIT]]
        return "\n".join(lines) + "\n"
    if not pairs:
        return None
    if len(pairs) == 1:
        project, task = pairs[0]
        return (
            f"Here is {_link(task.title, task.url)} in {_plain(project.name)}.\n\n"
            f"{', '.join(bit for bit in (task.status_label, _when(task, today)) if bit)}.\n"
        )
    lines = [f"{len(pairs)} tasks match:", ""]
    lines += [f"- {_task_line(task, today, project.name)}" for project, task in pairs[:LIST_LIMIT]]
    return "\n".join(lines) + "\n"


def _project_summary(project: ProjectFacts, today: datetime.date) -> str:
    late = sum(1 for task in project.open_tasks if days_late(task, today))
    bits = [project.status.replace("-", " ").capitalize(), "archived" if project.archived else ""]
    bits += [counted(len(project.open_tasks), "open task"), f"{late} overdue" if late else ""]
    return ", ".join(bit for bit in bits if bit) + "."


def _best_page(pages: Iterable[SitePage], question: Question) -> SitePage | None:
    """The page whose words the question uses most (its own list counting double); None when it uses none."""
    terms = {_stem(word) for word in question.key} or {_stem(word) for word in question.words & GENERIC_WORDS}
    scored = [
        (2 * len(terms & set(map(_stem, page.words))) + len(terms & set(map(_stem, _words(page.title)))), -index, page)
        for index, page in enumerate(pages)
    ]
    score, _, page = max(scored, default=(0, 0, None))
    return page if score else None


def _named_projects(conversation: Conversation, question: Question) -> list[ProjectFacts]:
    """The projects the question names (every word of a name, at the loosest); none when it names none."""
    return _best(_projects(conversation), lambda project: project.name, question, loosest=ALL_WORDS)[1]


def _best(
    items: Iterable[Item], name: Callable[[Item], str], question: Question, *, loosest: int = SOME_WORD
) -> tuple[int, list[Item]]:
    """The items whose names match the question best, and how well (``loosest + 1`` when none does)."""
    tiers = [(tier, item) for item in items if (tier := _tier(name(item), question)) is not None and tier <= loosest]
    best = min((tier for tier, _ in tiers), default=loosest + 1)
    return best, [item for tier, item in tiers if tier == best]


def _tier(name: str, question: Question) -> int | None:
    """How well ``name`` matches the question's key words, from ``EXACT`` to ``SOME_WORD``; None if not at all."""
    named = [_stem(word) for word in _words(name) if word not in STOP_WORDS | GENERIC_WORDS]
    key = [_stem(word) for word in question.key]
    terms = [_stem(word) for word in question.terms]
    if not named or not key:
        return None
    if key == named:
        return EXACT
    if _within(named, terms) or _within(key, named):
        return CONTAINS
    if set(named) <= set(terms) or all(
        any(word == part or (len(part) > 2 and word.startswith(part)) for word in named) for part in key
    ):
        return ALL_WORDS
    if any(len(part) >= 4 and part in named for part in key):
        return SOME_WORD
    return None


def _within(part: list[str], whole: list[str]) -> bool:
    return any(whole[index : index + len(part)] == part for index in range(len(whole) - len(part) + 1))


# --- The facts, words and links -------------------------------------------------------


def _projects(conversation: Conversation) -> list[ProjectFacts]:
    """The user's projects; the one on the page first, with all its tasks in place of its bounded summary."""
    here = conversation.project
    if here is None:
        return list(conversation.projects)
    return [here, *(project for project in conversation.projects if (project.id, project.url) != (here.id, here.url))]


def _fallback(conversation: Conversation) -> str:
    projects = _projects(conversation)
    examples = ["What is overdue?", "What's due this week?", "Where do I change my password?"]
    examples.insert(2, f"Open {_plain(projects[0].name)}" if projects else "How do I start a new project?")
    lines = ["I can help you find your way around the app and your own work. Try asking:", ""]
    lines += [f"- “{example}”" for example in examples]
    if here := conversation.project:
        lines += ["- “What's left here?”", "", f"You are on {_link(here.name, here.url)}."]
    return "\n".join(lines) + "\n"


def _page_link(pages: Iterable[SitePage], title: str) -> str:
    """A link to the page with this title, or the title alone when there is no such page."""
    page = next((page for page in pages if page.title.lower() == title.lower()), None)
    return _link(page.title, page.url) if page else f"the {title} page"


def _link(text: str, url: str) -> str:
    """A Markdown link to ``url`` showing ``text`` as written; the text in bold when there is no url."""
    return f"[{_plain(text)}]({url})" if url else _bold(text)


def _bold(text: str) -> str:
    return f"**{_plain(text)}**"


def _plain(text: str) -> str:
    """The user's own text (a name, a title) as Markdown that shows it as written: no link or emphasis starts in it."""
    return re.sub(r"([\\`*_\[\]()<>~|])", r"\\\1", text)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _stem(word: str) -> str:
    """The word without a plural ending, so "tokens" matches "token" and "projects" "project"."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
