"""The chat API: the prototype's contract plus sending with streamed replies.

``GET/DELETE /history/{userId}`` and ``POST /save`` keep the prototype's
shapes; ``POST /send`` (and ``retry``/``continue``) answer with the saved chat
when the reply is done, or, with ``Accept: text/event-stream``, with the
reply's text deltas and one final ``done`` event carrying the saved chat.
"""

import json

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from accounts.api_auth import AsyncBearerTokenAuth, AsyncSessionAuth
from catalyst.api import error_response
from catalyst.schemas import errors
from catalyst.shortcuts import aget_or_404, get_or_404
from chat import services
from chat.generation import lost_settle, reply_events
from chat.models import ChatHistory
from chat.schemas import (
    ChatListResponse,
    ChatQuery,
    ChatResponse,
    ClearedResponse,
    ReplyFailedResponse,
    ReplyResponse,
    SaveIn,
    SendIn,
    TextOut,
)
from chat.streaming import KEEPALIVE, event_stream_response, sse_event
from projects.models import Project, ProjectDraft

router = Router(tags=["chat"], by_alias=True)
ASYNC_AUTH = [AsyncBearerTokenAuth(), AsyncSessionAuth()]

HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 1000

# How a failed reply answers a caller that waited for JSON.
FAILURE_STATUS = {"rate_limited": 429, "safety": 422}
# The answers a route that starts a reply can give when the reply cannot be written.
REPLY_FAILURES = dict.fromkeys((422, 429, 502), ReplyFailedResponse)

EVENT_STREAM = {
    "text/event-stream": {
        "schema": {
            "description": "One event; its `data` is JSON.",
            "type": "object",
            "required": ["event", "data"],
            "properties": {
                "event": {"enum": ["start", "snapshot", "delta", "done"]},
                "data": {"type": "string", "contentMediaType": "application/json"},
            },
        }
    }
}
# With Accept: text/event-stream, a route that starts a reply streams it.
REPLY_STREAM = {"responses": {200: {"content": EVENT_STREAM}}}


def _own_user(request: HttpRequest, user_id: str, *, read: bool = False):
    """The user ``user_id`` names, if the caller may reach them."""
    if str(request.auth.pk) == str(user_id):
        return request.auth
    if read and request.auth.is_staff:
        return get_or_404(get_user_model().objects.all(), user_id)
    raise HttpError(403, "You can only reach your own chat history.")


def _project(user, project_id: str | None) -> Project | None:
    if not project_id:
        return None
    return get_or_404(Project.objects.owned_by(user), project_id)


def _draft(user, draft_id: str | None) -> ProjectDraft | None:
    if draft_id is None:
        return None
    return get_or_404(ProjectDraft.objects.owned_by(user), draft_id)


def _rejected(request: HttpRequest, rejection: services.ChatRejected) -> HttpResponse:
    response = error_response(request, str(rejection), rejection.status)
    if rejection.retry_after:
        response["Retry-After"] = str(rejection.retry_after)
    return response


@router.get("/history/{user_id}", response={200: ChatListResponse, **errors(400, 401, 403, 404)})
def history(
    request: HttpRequest,
    user_id: str,
    conversation: Query[ChatQuery],
    limit: int = Query(
        HISTORY_LIMIT_DEFAULT,
        description=f"How many records per page, newest first from ``before`` "
        f"(default {HISTORY_LIMIT_DEFAULT}; below 0 reads as 0, above {HISTORY_LIMIT_MAX} as {HISTORY_LIMIT_MAX}).",
    ),
    before: str | None = Query(None, description="A record's ``_id``: the page of records older than it."),
):
    """A user's chat of one type, a page at a time: the newest ``limit`` records, oldest first."""
    user = _own_user(request, user_id, read=True)
    project = _project(user, conversation.project_id)
    records = ChatHistory.objects.owned_by(user).in_chat(chat_type=conversation.chat_type, project=project)
    size = min(max(0, limit), HISTORY_LIMIT_MAX)
    if before:
        cursor = get_or_404(records, before)
        chats, has_more = records.page(size, before=cursor.created_at, before_pk=cursor.pk)
    else:
        chats, has_more = records.page(size)
    lost_settle(chats)
    next_before = chats[0].pk if has_more and chats else None
    return {"success": True, "data": chats, "has_more": has_more, "next_before": next_before}


@router.post("/save", response={201: ChatResponse, **errors(400, 401, 403, 404, 413, 422, 429)})
def save(request: HttpRequest, payload: SaveIn):
    """Store a finished exchange as it is.

    Rate limited per user like sends (``CHAT_SAVE_LIMIT`` per ``CHAT_SAVE_WINDOW``
    seconds): past it, 429 with ``Retry-After``.
    """
    user = _own_user(request, payload.user_id)
    try:
        chat = services.chat_save(
            user=user,
            message=payload.message,
            response=payload.response,
            chat_type=payload.chat_type,
            project=_project(user, payload.project_id),
        )
    except services.ChatRejected as rejection:
        return _rejected(request, rejection)
    return Status(201, {"success": True, "data": chat})


@router.delete("/history/{user_id}", response={200: ClearedResponse, **errors(400, 401, 403, 404)})
def clear_history(request: HttpRequest, user_id: str, conversation: Query[ChatQuery]):
    """Delete one chat's records; says how many went."""
    user = _own_user(request, user_id)
    project = _project(user, conversation.project_id)
    removed = services.chat_clear(user=user, chat_type=conversation.chat_type, project=project)
    message = f"Deleted {removed} message{'s' if removed != 1 else ''}."
    return {"success": True, "message": message, "deleted_count": removed}


# --- Sending and following replies ---------------------------------------------------


@router.post(
    "/send",
    auth=ASYNC_AUTH,
    response={200: ReplyResponse, **errors(400, 401, 403, 404, 413, 503), **REPLY_FAILURES},
    exclude_unset=True,
    openapi_extra=REPLY_STREAM,
)
async def send(request: HttpRequest, payload: SendIn):
    """Send a message; the reply as JSON when done, or streamed as events.

    With ``Accept: text/event-stream`` the answer is ``start`` (the saved
    message, ``{"success", "data": chat}``), ``delta`` events (``{"text": …}``,
    only the new text) and exactly one final ``done`` event carrying the saved
    chat: ``{"success", "data": chat, "error"?, "errorKind"?}``. A stream that
    ends without ``done`` was cut: the reply goes on being written on the
    server, so resume from ``GET /api/chat/{id}/stream`` (the id is in
    ``start``), which first sends what the record holds, then live deltas,
    then ``done``.
    """
    try:
        chat = await sync_to_async(_send)(request.auth, payload)  # one trip to a thread, not three
    except services.ChatRejected as rejection:
        return _rejected(request, rejection)
    return await _reply(request, chat)


def _send(user, payload: SendIn) -> ChatHistory:
    return services.chat_send(
        user=user,
        message=payload.message,
        chat_type=payload.chat_type,
        project=_project(user, payload.project_id),
        draft=_draft(user, payload.draft_id),
        page=payload.page,
    )


@router.post(
    "/{chat_id}/retry",
    auth=ASYNC_AUTH,
    response={200: ReplyResponse, **errors(401, 403, 404, 409, 503), **REPLY_FAILURES},
    exclude_unset=True,
    openapi_extra=REPLY_STREAM,
)
async def retry(request: HttpRequest, chat_id: str):
    """Write a failed or interrupted reply again; answers like ``send``."""
    return await _restart(request, chat_id, services.chat_retry)


@router.post(
    "/{chat_id}/continue",
    auth=ASYNC_AUTH,
    response={200: ReplyResponse, **errors(401, 403, 404, 409, 503), **REPLY_FAILURES},
    exclude_unset=True,
    openapi_extra=REPLY_STREAM,
)
async def continue_reply(request: HttpRequest, chat_id: str):
    """Let the model continue an interrupted reply; answers like ``send``."""
    return await _restart(request, chat_id, services.chat_continue)


async def _restart(request: HttpRequest, chat_id: str, restart) -> HttpResponse | ReplyResponse | Status:
    chat = await _owned_chat(request, chat_id)
    try:
        await sync_to_async(restart)(chat=chat)
    except services.ChatRejected as rejection:
        return _rejected(request, rejection)
    return await _reply(request, chat)


@router.post("/{chat_id}/stop", auth=ASYNC_AUTH, response={200: ChatResponse, **errors(401, 403, 404)})
async def stop(request: HttpRequest, chat_id: str):
    """Stop a reply being written; what arrived is kept as interrupted."""
    chat = await _owned_chat(request, chat_id)
    chat = await sync_to_async(services.chat_stop)(chat=chat)
    return {"success": True, "data": chat}


@router.get(
    "/{chat_id}/stream",
    auth=ASYNC_AUTH,
    response=errors(401, 404),
    openapi_extra={"responses": {200: {"description": "The reply as events.", "content": EVENT_STREAM}}},
)
async def stream(request: HttpRequest, chat_id: str):
    """Follow a reply, or resume one whose stream was cut.

    First a ``snapshot`` event with what the record holds so far (none when it
    is empty), then ``delta`` events with new text as it arrives, then exactly
    one ``done`` event carrying the saved chat, as from ``send``.
    """
    chat = await _owned_chat(request, chat_id)
    return _event_stream(request, chat, start=False)


async def _owned_chat(request: HttpRequest, chat_id: str) -> ChatHistory:
    return await aget_or_404(ChatHistory.objects.owned_by(request.auth), chat_id)


async def _reply(request: HttpRequest, chat: ChatHistory) -> HttpResponse | ReplyResponse | Status:
    if "text/event-stream" in request.headers.get("Accept", ""):
        return _event_stream(request, chat, start=True)
    async for kind, _ in reply_events(chat.pk):
        if kind == "done":
            break
    chat = await ChatHistory.objects.filter(pk=chat.pk).afirst()  # None once cleared meanwhile
    body = _final(chat)
    if chat is not None and chat.status == ChatHistory.Status.FAILED:
        return Status(FAILURE_STATUS.get(chat.error_kind, 502), body)
    return body


def _final(chat: ChatHistory | None) -> ReplyResponse:
    if chat is None:
        return ReplyResponse(success=False, data=None, error="This chat was deleted.", error_kind="deleted")
    if chat.status == ChatHistory.Status.COMPLETE:
        return ReplyResponse(success=True, data=chat)
    failed = chat.status == ChatHistory.Status.FAILED
    return ReplyResponse(success=not failed, data=chat, error=chat.error, error_kind=chat.error_kind)


def _json_event(event: str, body: Schema) -> str:
    data = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return sse_event(event, json.dumps(data, ensure_ascii=False))


def _event_stream(request: HttpRequest, chat: ChatHistory, *, start: bool) -> HttpResponse:
    return event_stream_response(request, _api_chunks(chat, start=start))


async def _api_chunks(chat: ChatHistory, *, start: bool):
    """The API's encoding of a reply: ``start``, JSON ``delta`` events, one final ``done``."""
    yield _json_event("start", ChatResponse(success=True, data=chat)) if start else ": stream\n\n"
    async for kind, data in reply_events(chat.pk):
        if kind == "done":
            final = await ChatHistory.objects.filter(pk=chat.pk).afirst()
            yield _json_event("done", _final(final))
            return
        if kind == "ping":
            yield KEEPALIVE
        elif data or kind == "delta":
            yield _json_event(kind, TextOut(text=data))
