"""The model providers behind the planning chat.

One small interface: ``stream_reply(conversation)`` yields the reply's text
as it arrives (``TextDelta``) and ends with ``ReplyFinished``; anything that
goes wrong is raised as one of the ``ProviderError`` classes below, each of
which the UI reads differently. ``get_provider()`` picks the provider from
``AI_PROVIDER`` (``auto`` means Gemini when ``GEMINI_API_KEY`` is set).

Two providers: ``GeminiProvider`` (google-genai, async streaming through
``client.aio``) and ``OfflineProvider`` (deterministic, no network, answers
from the project's own data). Drafting a structured project plan from a
conversation will be a second method on ``Provider``.
"""

import asyncio
import contextlib
import datetime
import logging
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from django.conf import settings

logger = logging.getLogger(__name__)

CONTINUE_PROMPT = (
    "Your previous reply was cut off. Continue it exactly where it stopped, without repeating "
    "anything you already wrote and without any preamble."
)


# --- What goes in -----------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "model"]
    text: str


@dataclass(frozen=True)
class TaskFacts:
    title: str
    status: str
    status_label: str
    priority: str
    due_date: datetime.date | None = None
    estimate_hours: float | None = None
    is_overdue: bool = False


@dataclass(frozen=True)
class ProjectFacts:
    name: str
    status: str
    priority: str = "medium"
    description: str = ""
    start_date: datetime.date | None = None
    due_date: datetime.date | None = None
    tasks: tuple[TaskFacts, ...] = ()

    @property
    def open_tasks(self) -> tuple[TaskFacts, ...]:
        return tuple(task for task in self.tasks if task.status != "done")

    @property
    def overdue_tasks(self) -> tuple[TaskFacts, ...]:
        return tuple(task for task in self.tasks if task.is_overdue)


@dataclass(frozen=True)
class Conversation:
    """Everything a provider needs to answer the newest message.

    ``history`` holds earlier turns, oldest first; ``message`` is the user's
    newest one. ``partial_reply`` is set when the model should continue a
    reply that was cut off. ``project`` is the project a scoped chat is about;
    ``projects`` the user's active projects in a general chat.
    """

    system_instruction: str
    message: str
    history: tuple[Turn, ...] = ()
    partial_reply: str = ""
    project: ProjectFacts | None = None
    projects: tuple[ProjectFacts, ...] = ()
    today: datetime.date = field(default_factory=datetime.date.today)

    def turns(self) -> list[Turn]:
        """The whole exchange as alternating turns, ending with the user's."""
        turns = [*self.history, Turn("user", self.message)]
        if self.partial_reply:
            turns += [Turn("model", self.partial_reply), Turn("user", CONTINUE_PROMPT)]
        return turns


# --- What comes out ---------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReplyFinished:
    prompt_tokens: int | None = None
    response_tokens: int | None = None


class ProviderError(Exception):
    """A reply that could not be completed; ``str()`` is the user's message."""

    kind: ClassVar[str] = "unavailable"
    #: True when the text so far is worth keeping and continuing.
    interrupts: ClassVar[bool] = False


class RateLimited(ProviderError):
    kind = "rate_limited"

    def __init__(self, retry_after: float | None = None):
        self.retry_after = retry_after
        wait = f"in {_seconds_phrase(retry_after)}" if retry_after else "in a minute"
        super().__init__(f"The assistant is receiving too many requests right now. Try again {wait}.")


class SafetyBlocked(ProviderError):
    kind = "safety"

    def __init__(self, category: str = "unspecified"):
        self.category = category
        super().__init__(
            f"The assistant's safety filter blocked this reply (category: {category}). Try rephrasing your message."
        )


class ProviderUnavailable(ProviderError):
    kind = "unavailable"


class ProviderMisconfigured(ProviderError):
    kind = "misconfigured"


class EmptyReply(ProviderError):
    kind = "empty"

    def __init__(self):
        super().__init__("The assistant sent back an empty reply. Retry, or rephrase your message.")


class OutputLimitReached(ProviderError):
    kind = "output_limit"
    interrupts = True

    def __init__(self):
        super().__init__("The reply reached the model's output limit. Continue to get the rest.")


class StreamCut(ProviderError):
    kind = "cut"
    interrupts = True

    def __init__(self):
        super().__init__("The connection to the assistant dropped mid-reply. Continue to pick up where it stopped.")


def _seconds_phrase(seconds: float) -> str:
    seconds = max(1, round(seconds))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minutes"


# --- The interface ------------------------------------------------------------


class Provider:
    name: ClassVar[str]
    #: How the UI names the assistant.
    label: str
    model_name: str

    def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        raise NotImplementedError


def get_provider() -> Provider:
    choice = settings.AI_PROVIDER
    if choice == "gemini" or (choice == "auto" and settings.GEMINI_API_KEY):
        return GeminiProvider(
            api_key=settings.GEMINI_API_KEY,
            model=settings.GEMINI_MODEL,
            base_url=settings.GEMINI_BASE_URL,
            timeout=settings.CHAT_PROVIDER_TIMEOUT,
            retries=settings.CHAT_PROVIDER_RETRIES,
            retry_backoff=settings.CHAT_PROVIDER_RETRY_BACKOFF,
        )
    return OfflineProvider(chunk_delay=settings.CHAT_OFFLINE_CHUNK_DELAY)


# --- Gemini -------------------------------------------------------------------

# Finish reasons that mean "blocked", and the category to show when the
# response carries no safety rating.
_BLOCKING_FINISH_REASONS = {
    "SAFETY": None,
    "RECITATION": "recitation",
    "BLOCKLIST": "blocklist",
    "PROHIBITED_CONTENT": "prohibited content",
    "SPII": "personal information",
    "IMAGE_SAFETY": None,
}
_RETRY_AFTER_CAP = 8.0  # seconds we are willing to wait before the first token


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str = "",
        timeout: float = 60.0,
        retries: int = 2,
        retry_backoff: float = 1.0,
    ):
        self.api_key = api_key
        self.model_name = model
        self.base_url = base_url
        self.timeout = timeout
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.label = f"Gemini · {model}"

    def _client(self):
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.base_url or None, api_version="v1beta", timeout=int(self.timeout * 1000)
        )
        return genai.Client(api_key=self.api_key, http_options=options)

    def _request(self, conversation: Conversation) -> dict:
        from google.genai import types

        contents = [types.Content(role=turn.role, parts=[types.Part(text=turn.text)]) for turn in conversation.turns()]
        config = types.GenerateContentConfig(
            system_instruction=conversation.system_instruction,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        return {"model": self.model_name, "contents": contents, "config": config}

    async def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        if not self.api_key:
            raise ProviderMisconfigured(
                "The Gemini provider has no API key. Set GEMINI_API_KEY, or use the offline one."
            )
        client = self._client()
        request = self._request(conversation)
        try:
            attempt = 0
            while True:
                produced = False
                try:
                    async for event in self._one_attempt(client, request):
                        produced = True
                        yield event
                    return
                except ProviderError as error:
                    if produced or not self._worth_retrying(error, attempt):
                        raise
                    await asyncio.sleep(self._delay(error, attempt))
                    attempt += 1
        finally:
            await client.aio.aclose()
            client.close()

    def _worth_retrying(self, error: ProviderError, attempt: int) -> bool:
        if attempt >= self.retries:
            return False
        if isinstance(error, RateLimited):
            return error.retry_after is None or error.retry_after <= _RETRY_AFTER_CAP
        return type(error) is ProviderUnavailable

    def _delay(self, error: ProviderError, attempt: int) -> float:
        if isinstance(error, RateLimited) and error.retry_after:
            return error.retry_after
        return self.retry_backoff * (2**attempt) * (0.75 + random.random() / 2)  # noqa: S311 - jitter

    async def _one_attempt(self, client, request: dict) -> AsyncIterator[TextDelta | ReplyFinished]:
        """Stream one request; only ever raises ``ProviderError``."""
        from google.genai import errors

        produced = False
        finish_reason = None
        blocked = None
        usage = ReplyFinished()
        try:
            stream = await client.aio.models.generate_content_stream(**request)
            async with contextlib.aclosing(stream):
                async for chunk in stream:
                    # A block arrives as the stream's last chunk: read to the end, then raise.
                    blocked = blocked or _prompt_block(chunk)
                    candidate = chunk.candidates[0] if chunk.candidates else None
                    if candidate is not None:
                        text = "".join(
                            part.text
                            for part in (candidate.content.parts if candidate.content else None) or []
                            if part.text and not part.thought
                        )
                        if text:
                            produced = True
                            yield TextDelta(text)
                        if candidate.finish_reason is not None:
                            finish_reason = _enum_name(candidate.finish_reason)
                            if finish_reason in _BLOCKING_FINISH_REASONS:
                                blocked = _safety_category(candidate, finish_reason)
                    if chunk.usage_metadata is not None:
                        usage = ReplyFinished(
                            prompt_tokens=chunk.usage_metadata.prompt_token_count,
                            response_tokens=chunk.usage_metadata.candidates_token_count,
                        )
        except ProviderError:
            raise
        except errors.APIError as error:
            if produced:
                raise StreamCut() from error
            raise _api_error(error) from error
        except Exception as error:  # transport failures: refused, reset, timed out, cut
            if produced:
                raise StreamCut() from error
            logger.warning("Gemini request failed before the first token: %r", error)
            if _is_timeout(error):
                raise ProviderUnavailable("The assistant did not answer in time. Try again in a moment.") from error
            raise ProviderUnavailable(
                "Could not reach the assistant (Gemini). Check the connection and try again in a moment."
            ) from error
        if blocked:
            raise SafetyBlocked(blocked)
        if finish_reason == "MAX_TOKENS":
            raise OutputLimitReached()
        if finish_reason is None and produced:
            # The stream ended without saying it was finished.
            raise StreamCut()
        if not produced:
            raise EmptyReply()
        yield usage


def _enum_name(value) -> str:
    return getattr(value, "name", None) or str(value)


def _is_timeout(error: Exception) -> bool:
    return "timeout" in type(error).__name__.lower() or isinstance(error, TimeoutError)


def _prompt_block(chunk) -> str | None:
    feedback = chunk.prompt_feedback
    if feedback is None or feedback.block_reason is None:
        return None
    for rating in feedback.safety_ratings or []:
        if rating.blocked:
            return _category_label(rating.category)
    return _enum_name(feedback.block_reason).replace("_", " ").lower()


def _safety_category(candidate, finish_reason: str) -> str:
    ratings = candidate.safety_ratings or []
    flagged = [r for r in ratings if r.blocked] or [
        r for r in ratings if _enum_name(r.probability) in ("HIGH", "MEDIUM")
    ]
    if flagged:
        return _category_label(flagged[0].category)
    return _BLOCKING_FINISH_REASONS.get(finish_reason) or "unspecified"


def _category_label(category) -> str:
    name = _enum_name(category)
    return re.sub(r"^HARM_CATEGORY_", "", name).replace("_", " ").lower() or "unspecified"


def _api_error(error) -> ProviderError:
    code = error.code or 0
    status = (error.status or "").upper()
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        return RateLimited(_retry_after(error))
    if code in (401, 403) or status in ("UNAUTHENTICATED", "PERMISSION_DENIED") or "API_KEY" in str(error.details):
        return ProviderMisconfigured(
            "The assistant rejected the server's credentials. An administrator needs to check GEMINI_API_KEY."
        )
    if code == 404:
        return ProviderMisconfigured(
            "The configured Gemini model was not found. An administrator needs to check GEMINI_MODEL."
        )
    if code >= 500 or code in (408, 0):
        return ProviderUnavailable(
            f"The assistant is unavailable right now (server error {code}). Try again in a moment."
        )
    return ProviderUnavailable(f"The assistant could not answer this request ({code} {error.message or status}).")


def _retry_after(error) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    header = headers.get("retry-after") if hasattr(headers, "get") else None
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    details = error.details if isinstance(error.details, dict) else {}
    for detail in details.get("error", {}).get("details", []) or []:
        if isinstance(detail, dict) and detail.get("@type", "").endswith("RetryInfo"):
            match = re.fullmatch(r"([\d.]+)s", str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


# --- Offline ----------------------------------------------------------------


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
