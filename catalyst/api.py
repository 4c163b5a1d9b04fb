"""The JSON API: one NinjaAPI with the prototype's error shape.

Every call but health is authenticated, by a personal token sent as
``Authorization: Bearer <token>`` or by the browser session (with CSRF for
writes). Errors always read ``{"success": false, "error": "…"}``.
"""

import json

from django.db import connection
from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from accounts.api_auth import BearerTokenAuth, SessionAuth


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
    "(`Authorization: Bearer <token>`, created on your profile page) or a browser session.",
    auth=[BearerTokenAuth(), SessionAuth()],
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
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(request, "Invalid request. " + "; ".join(problems), 400)


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error_response(request, str(exc.message), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, "Not found.", 404)


@api.get("/health", auth=None, tags=["health"], response={200: dict, 503: dict})
def health(request: HttpRequest):
    """Service health; no login needed."""
    body = {"status": "ok", "database": "ok", "store": connection.vendor, "version": api.version}
    try:
        connection.ensure_connection()
        if connection.vendor == "mongodb":
            connection.connection.admin.command("ping")
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
    except Exception:  # any failure of the store means "not healthy"
        return Status(503, {**body, "status": "error", "database": "error"})
    return Status(200, body)


api.add_router("/account", "accounts.api.router")
api.add_router("/chat", "chat.api.router")
api.add_router("/projects", "projects.api.router")
