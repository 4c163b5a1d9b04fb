"""What every provider takes, yields and raises.

``Provider.stream_reply(conversation)`` yields the reply's text as it arrives
(``TextDelta``) and ends with ``ReplyFinished``; anything that goes wrong is
raised as a ``ProviderError`` subclass, each of which the UI reads differently.
"""

import asyncio
import datetime
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Self

CONTINUE_PROMPT = (
    "Your previous reply was cut off. Continue it exactly where it stopped, without repeating "
    "anything you already wrote and without any preamble."
)


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
    #: The task's key, as the model names it in proposed changes.
    id: str = ""
    description: str = ""
    #: Where the task is on this site (its card on the project's board).
    url: str = ""
    project_name: str = ""


@dataclass(frozen=True)
class ProjectFacts:
    name: str
    status: str
    priority: str = "medium"
    description: str = ""
    start_date: datetime.date | None = None
    due_date: datetime.date | None = None
    tasks: tuple[TaskFacts, ...] = ()
    id: str = ""
    #: The project's page on this site.
    url: str = ""
    archived: bool = False

    @property
    def open_tasks(self) -> tuple[TaskFacts, ...]:
        return tuple(task for task in self.tasks if task.status != "done")

    @property
    def overdue_tasks(self) -> tuple[TaskFacts, ...]:
        return tuple(task for task in self.tasks if task.is_overdue)


@dataclass(frozen=True)
class SitePage:
    """A page of this site as the navigation assistant knows it: where it is and what it is for."""

    title: str
    url: str
    about: str
    #: Words a question about this page is likely to use ("password", "token").
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    """Everything a provider needs to answer the newest message.

    ``history`` holds earlier turns, oldest first; ``message`` is the user's
    newest one. ``partial_reply`` is set when the model should continue a
    reply that was cut off. ``project`` is the project a scoped chat is about;
    ``projects`` the user's active projects in a general chat.

    In a navigation chat, ``projects`` holds the user's projects with their
    open tasks (a bounded selection, overdue and soonest due first),
    ``project`` the project on the page the question was asked from, and
    ``pages`` the site's pages.
    """

    system_instruction: str
    message: str
    history: tuple[Turn, ...] = ()
    partial_reply: str = ""
    project: ProjectFacts | None = None
    projects: tuple[ProjectFacts, ...] = ()
    today: datetime.date = field(default_factory=datetime.date.today)
    chat_type: str = "project-planning"
    pages: tuple[SitePage, ...] = ()

    def turns(self) -> list[Turn]:
        """The whole exchange as alternating turns, ending with the user's."""
        turns = [*self.history, Turn("user", self.message)]
        if self.partial_reply:
            turns += [Turn("model", self.partial_reply), Turn("user", CONTINUE_PROMPT)]
        return turns


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReplyFinished:
    prompt_tokens: int | None = None
    response_tokens: int | None = None
    #: True when the server reported no usage and the counts are an estimate.
    estimated: bool = False


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


class UnusableAnswer(ProviderError):
    """A structured answer (a draft, a proposal) that could not be read as JSON."""

    kind = "unusable_answer"


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


#: The longest rate limit a reply waits out before its first token, in seconds.
RETRY_AFTER_CAP = 8.0


async def retried_until_first_token(
    attempt: Callable[[], AsyncIterator], *, retries: int, backoff: float
) -> AsyncIterator:
    """The events of ``attempt()``, tried again while it fails before its first event.

    Up to ``retries`` more tries, and only for what may pass: a rate limit no
    longer than ``RETRY_AFTER_CAP`` (waited out as the server said) or the
    model being unavailable (an exponential back-off from ``backoff``
    seconds, with jitter). Once an event has been yielded, a failure is the
    caller's to report: the text so far is the user's.
    """
    tries = 0
    while True:
        produced = False
        try:
            async for event in attempt():
                produced = True
                yield event
            return
        except ProviderError as error:
            if produced or tries >= retries or not _passing(error):
                raise
            if isinstance(error, RateLimited) and error.retry_after:
                await asyncio.sleep(error.retry_after)
            else:
                await asyncio.sleep(backoff * (2**tries) * (0.75 + random.random() / 2))
            tries += 1


def _passing(error: ProviderError) -> bool:
    if isinstance(error, RateLimited):
        return error.retry_after is None or error.retry_after <= RETRY_AFTER_CAP
    return type(error) is ProviderUnavailable  # not a subclass that says asking again cannot help


class Provider:
    """A source of replies; ``AI_PROVIDERS`` names each one by its ``name``."""

    name: ClassVar[str]
    #: How the UI names the assistant.
    label: str
    model_name: str

    @classmethod
    def from_settings(cls) -> Self:
        """The provider as the settings configure it."""
        raise NotImplementedError

    def stream_reply(self, conversation: Conversation) -> AsyncIterator[TextDelta | ReplyFinished]:
        raise NotImplementedError

    async def propose_changes(
        self, conversation: Conversation, *, kind: str, task_id: str = "", problem: str = ""
    ) -> dict:
        """Changes to ``conversation.project`` as JSON in the shape of ``projects.proposals``.

        ``kind`` is ``"changes"`` (additions, edits and removals across the
        project) or ``"breakdown"`` (3 to 8 new tasks that split the task
        ``task_id`` into steps). ``problem`` says what was wrong with the
        previous answer, when this is the one repair attempt. Unvalidated.
        """
        raise NotImplementedError

    async def draft_project(self, conversation: Conversation, *, current: dict, problem: str = "") -> dict:
        """The project plan the conversation describes, as JSON in the shape of ``projects.drafts``.

        ``current`` is the draft as it stands (the user may have edited it),
        in the same shape; keep what the user settled unless the conversation
        changes it. ``problem`` says what was wrong with the previous answer,
        when this is the one repair attempt. Unvalidated: the caller checks it.
        """
        raise NotImplementedError
