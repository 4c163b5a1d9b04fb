"""The JSON API: one NinjaAPI with the prototype's error shape.

Every call but health is authenticated, by a personal token sent as
``Authorization: Bearer <token>`` or by the browser session (with CSRF for
writes). Errors always read ``{"success": false, "error": "…"}``.
"""

import json
from typing import Literal

from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accounts.api_auth import BearerTokenAuth, SessionAuth
from catalyst.schemas import PATTERN_PROBLEMS


class StrictJSONParser(Parser):
    """JSON bodies, refusing text no store can hold (lone UTF-16 surrogates).

    django-ninja answers a parser error with 400 "Cannot parse request body".
    """

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        json.dumps(data, ensure_ascii=False).encode()
        return data


api = NinjaAPI(
    parser=StrictJSONParser(),
    title="Project Catalyst API",
    version="1.0.0",
    description="Projects, tasks and planning chats. Authenticate with a personal token "
    "(`Authorization: Bearer <token>`, created on your profile page) or a browser session "
    "(writes then need the `X-CSRFToken` header).\n\n"
    'Every error reads `{"success": false, "error": "…"}`: 400 when the request does not match '
    "this schema (the error names the field), 401 without a valid token or session, 403 for a "
    "session write without the CSRF header or another user's records, 404 for no such record "
    "among yours, 409 when the record's state does not allow the action now, 413 for a body "
    "larger than the server accepts, 422 when a well-formed request breaks a rule this schema "
    "cannot express (a due date before the start date), 429 when rate limited (wait the seconds "
    "in `Retry-After`).",
    auth=[BearerTokenAuth(), SessionAuth()],
    default_router=Router(by_alias=True),
    urls_namespace="api",
)


def error_response(request: HttpRequest, message: str, status: int):
    return api.create_response(request, {"success": False, "error": message}, status=status)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request, exc):
    return error_response(request, "Authentication required: log in or send a valid API token.", 401)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    problems = []
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ())[1:] if part != "payload") or "body"
        message = PATTERN_PROBLEMS.get(error.get("ctx", {}).get("pattern"), error.get("msg", "invalid"))
        problems.append(f"{where}: {message}")
    return error_response(request, "Invalid request. " + "; ".join(problems), 400)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error_response(request, str(exc.message), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, "Not found.", 404)


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc):
    return error_response(request, "The request body is too large.", 413)


class HealthOut(Schema):
    status: Literal["ok", "error"]
    database: Literal["ok", "error"]
    store: str
    version: str


@api.get("/health", auth=None, tags=["health"], response={200: HealthOut, 503: HealthOut})
def health(request: HttpRequest):
    """Liveness; no login needed. 503 (with ``"status": "error"``) when the store is down."""
    body = {"status": "ok", "database": "ok", "store": connection.vendor, "version": api.version}
    if not _store_answers():
        return Status(503, {**body, "status": "error", "database": "error"})
    return Status(200, body)


class ReadyOut(Schema):
    status: Literal["ok", "error"]
    database: Literal["ok", "error"]
    migrations: Literal["ok", "pending", "unknown"]


@api.get("/ready", auth=None, tags=["health"], response={200: ReadyOut, 503: ReadyOut})
def ready(request: HttpRequest):
    """Readiness; no login needed: the store answers and every migration is applied, else 503."""
    if not _store_answers():
        return Status(503, {"status": "error", "database": "error", "migrations": "unknown"})
    if _unapplied_migrations():
        return Status(503, {"status": "error", "database": "ok", "migrations": "pending"})
    return Status(200, {"status": "ok", "database": "ok", "migrations": "ok"})


def _store_answers() -> bool:
    try:
        connection.ensure_connection()
        if connection.vendor == "mongodb":
            connection.connection.admin.command("ping")
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception:  # any failure of the store means "not healthy"
        return False
    return True


_migrations_applied = False


def _unapplied_migrations() -> list[str]:
    """Migrations the code has and the store has not applied. Once none are, that is remembered:
    a process's code does not change, and migrations are not taken back."""
    global _migrations_applied
    if _migrations_applied:
        return []
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrations_applied = not plan
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


api.add_router("/account", "accounts.api.router")
api.add_router("/chat", "chat.api.router")
api.add_router("/projects/drafts", "projects.api.drafts_router")
api.add_router("/projects", "projects.api.router")
