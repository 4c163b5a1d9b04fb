"""Writes of the planning chat, shared by the pages and the JSON API."""

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalyst.ratelimit import RateLimited, allowance_take
from chat import generation
from chat.models import ChatHistory
from chat.providers import get_provider
from chat.providers.prompts import conversation_build

Status = ChatHistory.Status


class ChatRejected(Exception):
    """A request the chat will not act on; ``str()`` is the user's message."""

    def __init__(self, message: str, *, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


# --- Limits -------------------------------------------------------------------

CAPACITY_RETRY_AFTER = 5


def send_allowance_take(*, user) -> None:
    """Count one send (or retry, or continue) against the user's rate limit and the server's capacity."""
    if generation.live_count() >= settings.CHAT_MAX_STREAMS:
        raise ChatRejected(
            "The assistant is answering as many messages as it can right now. Try again in a few seconds.",
            status=503,
            retry_after=CAPACITY_RETRY_AFTER,
        )
    _allowance_take(
        user=user, kind="sends", doing="sending", limit=settings.CHAT_SEND_LIMIT, window=settings.CHAT_SEND_WINDOW
    )
    _token_budget_check(user=user)


def tokens_used_today(*, user) -> int:
    """The model tokens the user's replies took since midnight UTC, read from the records themselves,
    so every worker counts the same."""
    midnight = timezone.now().astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return ChatHistory.objects.owned_by(user).filter(created_at__gte=midnight).tokens_used()


def _token_budget_check(*, user) -> None:
    budget = settings.CHAT_TOKEN_BUDGET_DAILY
    if not budget:
        return
    used = tokens_used_today(user=user)
    if used < budget:
        return
    now = timezone.now().astimezone(datetime.UTC)
    reset = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    wait = int((reset - now).total_seconds()) + 1
    hours, minutes = divmod(-(-wait // 60), 60)
    when = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    raise ChatRejected(
        f"You have used today's assistant budget ({used:,} of {budget:,} tokens). It resets at midnight UTC, "
        f"in {when}. Your message was not sent: send it again then.",
        status=429,
        retry_after=wait,
    )


def save_allowance_take(*, user) -> None:
    """Count one stored exchange (the prototype's ``/save``) against the user's rate limit."""
    _allowance_take(
        user=user, kind="saves", doing="saving", limit=settings.CHAT_SAVE_LIMIT, window=settings.CHAT_SAVE_WINDOW
    )


def _allowance_take(*, user, kind: str, doing: str, limit: int, window: int) -> None:
    try:
        allowance_take(f"chat-{kind}:{user.pk}", limit=limit, window=window)
    except RateLimited as limited:
        raise ChatRejected(
            f"You're {doing} messages faster than {limit} per {limited.window_phrase()}. "
            f"Try again in {limited.wait_phrase()}.",
            status=429,
            retry_after=limited.retry_after,
        ) from None


# --- Writes ---------------------------------------------------------------------


def _start(chat: ChatHistory, *, continuing: bool = False) -> None:
    provider = get_provider()
    generation.generation_start(
        chat=chat, conversation=conversation_build(chat=chat, continuing=continuing), provider=provider
    )


def chat_send(
    *,
    user,
    message: str,
    chat_type: str = ChatHistory.ChatType.PROJECT_PLANNING,
    project=None,
    draft=None,
    page: str = "",
) -> ChatHistory:
    """Save the user's message at once (``pending``) and start the reply.

    With ``draft`` the message belongs to that project draft's conversation.
    A navigation question keeps ``page``, the path it was asked on (anything
    else is dropped), so the assistant knows where the user is.
    """
    if draft is not None:
        chat_type, project = ChatHistory.ChatType.NEW_PROJECT, None
    navigation = chat_type == ChatHistory.ChatType.NAVIGATION
    chat = ChatHistory(
        user=user,
        project=None if navigation else project,
        draft=draft,
        page=_page_path(page) if navigation else "",
        message=message or "",
        chat_type=chat_type,
        status=Status.PENDING,
        provider=get_provider().name,
        model_name=get_provider().model_name,
    )
    try:
        # The user, project and draft were looked up by the caller: no query to check they exist.
        chat.full_clean(exclude=["user", "project", "draft"])
    except ValidationError as error:
        raise ChatRejected(" ".join(error.messages)) from None
    send_allowance_take(user=user)
    chat.save()
    _start(chat)
    return chat


def _page_path(page: str) -> str:
    """A path on this site, as a page sends it; anything else (another site, too long) is no page."""
    page = (page or "").strip()
    if not page.startswith("/") or page.startswith("//") or len(page) > ChatHistory.PAGE_MAX_LENGTH:
        return ""
    return urlsplit(page).path  # where, not which part of the page


def chat_retry(*, chat: ChatHistory) -> ChatHistory:
    """Generate a failed or interrupted reply again, from the start."""
    if not chat.can_retry:
        raise ChatRejected("Only a failed or interrupted reply can be retried.", status=409)
    send_allowance_take(user=chat.user)
    _restart(chat, response="", allowed=(Status.FAILED, Status.INTERRUPTED))
    _start(chat)
    return chat


def chat_continue(*, chat: ChatHistory) -> ChatHistory:
    """Let the model pick up an interrupted reply where it stopped."""
    if not chat.can_continue:
        raise ChatRejected("Only an interrupted reply can be continued.", status=409)
    send_allowance_take(user=chat.user)
    _restart(chat, response=chat.response, allowed=(Status.INTERRUPTED,))
    _start(chat, continuing=True)
    return chat


def _restart(chat: ChatHistory, *, response: str, allowed: tuple[str, ...]) -> None:
    # Only one request may move a reply back to pending, and only from a state
    # that allows it now (it may have finished since it was loaded).
    provider = get_provider()
    reopened = ChatHistory.objects.filter(pk=chat.pk).reopen(
        allowed=allowed, response=response, provider=provider.name, model_name=provider.model_name
    )
    if not reopened:
        raise ChatRejected("This reply is already being written or has finished.", status=409)
    chat.refresh_from_db()


def chat_stop(*, chat: ChatHistory) -> ChatHistory:
    """Stop a reply being written, keeping what arrived as interrupted."""
    if chat.status == Status.PENDING:
        generation.generation_stop(chat.pk)
    chat.refresh_from_db()
    return chat


def chat_clear(*, user, chat_type: str, project=None) -> int:
    """Delete one chat's records (and stop its replies); returns how many."""
    records = ChatHistory.objects.owned_by(user).in_chat(chat_type=chat_type, project=project)
    for pk in records.pending().values_list("pk", flat=True):
        generation.generation_stop(pk)
    deleted, _ = records.delete()
    return deleted


def chat_save(*, user, message: str, response: str, chat_type: str, project=None) -> ChatHistory:
    """Store a finished exchange as it is (the prototype's ``/save``)."""
    chat = ChatHistory(user=user, project=project, message=message or "", response=response or "", chat_type=chat_type)
    try:
        chat.full_clean()
    except ValidationError as error:
        raise ChatRejected(" ".join(error.messages)) from None
    save_allowance_take(user=user)
    chat.save()
    return chat
