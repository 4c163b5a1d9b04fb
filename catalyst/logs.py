"""Structured logs: one line per request and one per chat reply, as JSON or for people.

``LOG_FORMAT=json`` writes each line as one JSON object (``JsonFormatter``),
``console`` as text (``ConsoleFormatter``); both carry the request id of the
request a line was written in. The lines hold ids, routes, statuses, counts
and times only: never what users typed, passwords, API keys or tokens,
session ids or CSRF tokens (the journey in ``catalyst/tests/test_logs.py``
greps for each).
"""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import LazyObject, empty

from catalyst.clients import from_trusted_proxy
from catalyst.middleware import SyncAndAsyncMiddleware
from catalyst.queries import DatabaseUse, database_counted

REQUEST_ID_HEADER = "X-Request-ID"
# What a trusted proxy's request id may be; anything else is replaced by our own.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

#: The id of the request being served, for every line written while serving it.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

requests_logger = logging.getLogger("catalyst.requests")
replies_logger = logging.getLogger("catalyst.replies")


# --- How a line is written -------------------------------------------------------------


class RequestContextFilter(logging.Filter):
    """Stamps each record with the id of the request it was written in (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


# A record's own attributes; any other one was passed with ``extra=`` and is a field of the line
# (but for uvicorn's copy of its message with terminal colours).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "color_message",
}
# Only plain values become fields: an object (Django's ``request`` on its own lines) could print anything.
_FIELD_TYPES = (str, int, float, bool, type(None))


def _fields(record: logging.LogRecord) -> dict:
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and isinstance(value, _FIELD_TYPES)
    }


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC), level, logger, message, request_id, fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        timestamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = {
            "timestamp": timestamp.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """Lines for people: time, level, logger, the request id in brackets inside a request, message."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request_tag)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().formatMessage(record)


# --- One line per request --------------------------------------------------------------


def _forget_request_id(**kwargs) -> None:
    # ``request_finished`` (the response closed): a thread that served a request logs as no request after it.
    request_id_var.set(None)


def request_id_for(request: HttpRequest) -> str:
    """The id a trusted proxy gave the request, when it is sane; else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if given and _SANE_REQUEST_ID.fullmatch(given) and from_trusted_proxy(request):
        return given
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> str | None:
    # Only a user the request already looked up: loading one here would cost queries of its own.
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        user = user._wrapped if user._wrapped is not empty else None
    if user is None:
        user = request.__dict__.get("_cached_user") or request.__dict__.get("_acached_user")
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


class RequestLogMiddleware(SyncAndAsyncMiddleware):
    """Gives each request an id (``request.request_id``, the ``X-Request-ID`` header) and logs one line for it.

    The line is written when the response's headers are ready: for an event
    stream that is before its body is sent (``streamed`` is then true, and
    ``duration_ms`` the time to its headers); the reply's own line says how
    the reply went. The stream is passed on untouched, never buffered.
    """

    def call(self, request: HttpRequest):
        started = self._start(request)
        with database_counted() as use:
            response = self.get_response(request)
        return self._log(request, response, started, use)

    async def acall(self, request: HttpRequest):
        started = self._start(request)
        with database_counted() as use:
            response = await self.get_response(request)
        return self._log(request, response, started, use)

    @staticmethod
    def _start(request: HttpRequest) -> float:
        request.request_id = request_id_for(request)
        # Left set when the middleware returns, so Django's own line for a 4xx (written after
        # it) and lines written while an event stream is sent still carry it; cleared when
        # the response is closed (``_forget_request_id``).
        request_id_var.set(request.request_id)
        return time.monotonic()

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponseBase, started: float, use: DatabaseUse):
        response[REQUEST_ID_HEADER] = request.request_id
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        match = request.resolver_match
        route = match.view_name if match else None
        streamed = response.streaming
        requests_logger.info(
            "%s %s %s %.0f ms%s",
            request.method,
            route or "-",
            response.status_code,
            duration_ms,
            " (streamed)" if streamed else "",
            extra={
                "method": request.method,
                "route": route,
                "path": match.route if match else None,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
                "query_count": use.queries,
                "streamed": streamed,
                "request_id": request.request_id,
            },
        )
        return response


# --- One line per chat reply -----------------------------------------------------------


def log_reply_finished(
    sender,
    *,
    chat_id,
    user_id,
    chat_type: str,
    provider: str,
    model: str,
    status: str,
    error_kind: str,
    prompt_tokens: int | None,
    response_tokens: int | None,
    tokens_estimated: bool,
    first_token_seconds: float | None,
    seconds: float,
    **kwargs,
) -> None:
    """``chat.signals.reply_finished``: one line for the reply, never its text."""
    first_token_ms = None if first_token_seconds is None else round(first_token_seconds * 1000, 1)
    duration_ms = round(seconds * 1000, 1)
    # A stop is the user's choice; any other ending short of complete is trouble worth a warning.
    level = logging.INFO if status == "complete" or error_kind == "stopped" else logging.WARNING
    replies_logger.log(
        level,
        "Reply to chat %s %s%s: %s %s, %s ms",
        chat_id,
        status,
        f" ({error_kind})" if error_kind else "",
        provider,
        model,
        f"{duration_ms:.0f}",
        extra={
            "chat_id": str(chat_id),
            "user_id": None if user_id is None else str(user_id),
            "chat_type": chat_type,
            "provider": provider,
            "model": model,
            "status": status,
            "error_kind": error_kind,
            "prompt_tokens": prompt_tokens,
            "response_tokens": response_tokens,
            "tokens_estimated": tokens_estimated,
            "first_token_ms": first_token_ms,
            "duration_ms": duration_ms,
        },
    )


def connect() -> None:
    """Hear the chat's replies and the ends of requests (once, from the app's ``ready``)."""
    from chat.signals import reply_finished

    reply_finished.connect(log_reply_finished, dispatch_uid="catalyst.logs.reply_finished")
    request_finished.connect(_forget_request_id, dispatch_uid="catalyst.logs.request_finished")
