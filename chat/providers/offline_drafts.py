"""The offline assistant's new-project chat: a project draft read from the user's own words."""

import calendar
import datetime
import re
from dataclasses import dataclass

from chat.providers.base import Conversation, TaskFacts

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
        listed, sentences = list_items(message), split_sentences(prose(message))
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
        description=shorten(_tidy(messages[first]), TEXT_LIMIT, ellipsis=True) if first is not None else "",
        priority=_priority(project_text),
        start_date=start or (today if first is not None else None),
        due_date=due,
        tasks=_tasks(items, today),
        statements=tuple(statements),
    )


def _opening(message: str) -> str:
    """The sentence that states the project: the first that is not a greeting, else the first listed item."""
    sentences = split_sentences(prose(message))
    return next((sentence for sentence in sentences if not _is_chatter(sentence)), "") or next(
        iter(list_items(message)), ""
    )


def list_items(message: str) -> list[str]:
    return [match["item"] for line in message.splitlines() if (match := LIST_ITEM.match(line))]


def prose(message: str) -> str:
    return "\n".join(line for line in message.splitlines() if not LIST_ITEM.match(line))


def split_sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in SENTENCE_BREAK.split(text) if sentence.strip()]


def _tidy(text: str) -> str:
    """Text with even spacing: single spaces, no trailing blanks, at most one empty line in a row."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def shorten(text: str, limit: int, *, ellipsis: bool = False) -> str:
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


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- Which sentences are work ---


def word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


CHATTER = word_set(
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
FILLER = word_set(
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
CALLED_STOP = word_set("that which who where for to by and with so because in on from it is will should but due")
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
    text = shorten(" ".join(text.split()).strip(" \"'“”‘’`"), limit)
    return capitalised(text.rstrip(" .,;:!?-–—"))


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
    sentences = split_sentences(text) or [text]
    title = _without_lead(_without_metadata(sentences[0], today)) or sentences[0]
    shortened = len(sentences) > 1 or len(title) > TITLE_LENGTH
    dates = [mention.date for mention in _date_mentions(text, today) if not mention.starts]
    return {
        "title": _short(title, TITLE_LENGTH),
        "description": shorten(text, TEXT_LIMIT, ellipsis=True) if shortened else "",
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


def new_project_answer(conversation: Conversation) -> str:
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


def counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def days_late(task: TaskFacts, today: datetime.date) -> int:
    """Days past the due date of an open task; 0 when it is done, undated or not late.

    Counted from the conversation's ``today`` rather than ``is_overdue``, so the
    reports and proposals say the same number of days as the dates they show.
    """
    if task.status == "done" or task.due_date is None or task.due_date >= today:
        return 0
    return (today - task.due_date).days
