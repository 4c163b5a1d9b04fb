"""Structured logs: one line per request and per chat reply, the request id, and what is never logged."""

import io
import ipaddress
import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext

from catalyst.logs import ConsoleFormatter, JsonFormatter, RequestContextFilter, request_id_var
from chat.models import ChatHistory
from chat.tests.helpers import wait_for, wait_until_settled
from tests.factories import ProjectFactory, UserFactory
from tests.fake_gemini import Failure, Reply

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class CapturedLog:
    """Everything logged while a test runs, formatted as ``LOG_FORMAT=json`` formats it."""

    def __init__(self):
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, logger: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in self.text.splitlines()]
        return [line for line in parsed if logger is None or line["logger"] == logger]

    def requests(self) -> list[dict]:
        return self.lines("catalyst.requests")

    def replies(self) -> list[dict]:
        return self.lines("catalyst.replies")


@pytest.fixture
def json_log():
    """A JSON handler on the root logger, taking every level while the test runs."""
    captured = CapturedLog()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


# --- One line per request -------------------------------------------------------------


def test_a_request_logs_one_line_with_its_route_user_queries_and_id(signed_in, user, json_log):
    project = ProjectFactory(owner=user)

    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(f"/projects/{project.pk}/")

    [line] = json_log.requests()
    assert response.status_code == 200
    assert line["request_id"] == response["X-Request-ID"]
    assert GENERATED_ID.fullmatch(line["request_id"])
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["route"] == "projects:detail"
    assert line["path"] == "projects/<str:pk>/"
    assert re.fullmatch(r"GET projects:detail 200 \d+ ms", line["message"])  # the route, not the path
    assert line["status"] == 200
    assert line["user_id"] == str(user.pk)
    assert line["streamed"] is False
    assert 0 < line["duration_ms"] < 10_000
    if connection.vendor == "mongodb":
        # MongoDB commands as pymongo sends them (a read may add a getMore, a write its session's commands).
        assert line["query_count"] >= len(queries) > 0
    else:
        assert line["query_count"] == len(queries) > 0
    timestamp = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    assert line["timestamp"].endswith("Z") and timestamp.utcoffset().total_seconds() == 0


def test_each_request_gets_its_own_id(signed_in, json_log):
    first = signed_in.get("/projects/")
    second = signed_in.get("/projects/")

    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line["request_id"] for line in json_log.requests()] == [first["X-Request-ID"], second["X-Request-ID"]]


def test_an_anonymous_request_has_no_user(client, json_log):
    response = client.get("/api/health")

    [line] = json_log.requests()
    assert (line["route"], line["status"], line["user_id"]) == ("api:health", 200, None)
    assert line["request_id"] == response["X-Request-ID"]


def test_an_unknown_path_is_logged_without_it_and_its_other_lines_carry_the_id(signed_in, json_log):
    response = signed_in.get("/no-such-page/private-name/")

    [line] = json_log.requests()
    assert (line["route"], line["path"], line["status"]) == (None, None, 404)
    assert "private-name" not in line["message"]
    [not_found] = json_log.lines("django.request")
    assert not_found["request_id"] == response["X-Request-ID"] == line["request_id"]
    assert not_found["status_code"] == 404
    assert "request" not in not_found  # an object, not a plain field


@pytest.mark.parametrize(
    ("trusted", "given", "kept"),
    [
        (True, "edge-7f3a.1_B", True),
        (True, "x" * 128, True),
        (False, "edge-7f3a.1_B", False),
        (True, "x" * 129, False),
        (True, "has space", False),
        (True, "new\nline", False),
        (True, "", False),
    ],
)
def test_a_request_id_is_taken_only_from_a_trusted_proxy_and_only_when_sane(
    client, settings, json_log, trusted, given, kept
):
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")] if trusted else []

    response = client.get("/api/health", headers={"X-Request-ID": given}, REMOTE_ADDR="127.0.0.1")

    [line] = json_log.requests()
    assert line["request_id"] == response["X-Request-ID"]
    if kept:
        assert response["X-Request-ID"] == given
    else:
        assert GENERATED_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db(transaction=True)
async def test_an_event_stream_is_logged_when_its_headers_go_out_under_asgi(json_log):
    user = await sync_to_async(UserFactory)()
    chat = await ChatHistory.objects.acreate(user=user, message="Hello?", response="Hi.", status="complete")
    client = AsyncClient()
    await client.aforce_login(user)

    response = await client.get(f"/chat/{chat.pk}/stream/")

    [line] = json_log.requests()
    assert line["streamed"] is True
    assert (line["route"], line["status"], line["user_id"]) == ("chat:stream", 200, str(user.pk))
    assert line["request_id"] == response["X-Request-ID"]
    assert line["query_count"] > 0  # counted on the ASGI path too, though the queries run in a thread
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    assert "event: done" in body
    assert len(json_log.requests()) == 1


def test_no_request_id_is_left_behind_after_a_request(client):
    client.get("/api/health")

    assert request_id_var.get() is None


# --- One line per chat reply ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_finished_reply_logs_one_line_of_its_figures_not_its_text(signed_in, user, json_log, quick_chat):
    signed_in.post("/chat/send/", {"message": "Plan the quokka census"}, headers={"HX-Request": "true"})
    chat = wait_until_settled(ChatHistory.objects.get())
    wait_for(lambda: json_log.replies())

    [line] = json_log.replies()
    assert line["level"] == "INFO"
    assert "request_id" not in line  # written on the reply loop, after its request
    assert line["chat_id"] == str(chat.pk)
    assert line["user_id"] == str(user.pk)
    assert line["chat_type"] == "project-planning"
    assert (line["provider"], line["model"]) == (chat.provider, chat.model_name)
    assert (line["status"], line["error_kind"]) == ("complete", "")
    assert line["prompt_tokens"] == chat.prompt_tokens and line["response_tokens"] == chat.response_tokens
    assert line["tokens_estimated"] is chat.tokens_estimated
    assert 0 <= line["first_token_ms"] <= line["duration_ms"]
    assert "quokka" not in json_log.text
    assert chat.response[:20] not in json_log.text


@pytest.mark.django_db(transaction=True)
def test_a_failed_reply_logs_a_warning_with_its_kind(signed_in, json_log, quick_chat, fake_gemini):
    fake_gemini.script(Failure(500))
    signed_in.post("/chat/send/", {"message": "Plan the quokka census"}, headers={"HX-Request": "true"})
    chat = wait_until_settled(ChatHistory.objects.get())
    wait_for(lambda: json_log.replies())

    [line] = json_log.replies()
    assert (line["level"], line["status"], line["provider"]) == ("WARNING", "failed", "gemini")
    assert line["error_kind"] == chat.error_kind != ""
    assert line["first_token_ms"] is None and line["response_tokens"] is None


# --- How lines are written ------------------------------------------------------------


def test_a_json_line_carries_the_exception_and_only_plain_fields():
    record = logging.LogRecord("catalyst.tests", logging.ERROR, __file__, 1, "It broke: %s", ("badly",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    record.chat_id = "42"
    record.request = object()
    token = request_id_var.set("abc")
    try:
        RequestContextFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = json.loads(JsonFormatter().format(record))

    assert list(line)[:5] == ["timestamp", "level", "logger", "message", "request_id"]
    assert (line["level"], line["logger"], line["message"]) == ("ERROR", "catalyst.tests", "It broke: badly")
    assert (line["request_id"], line["chat_id"]) == ("abc", "42")
    assert "request" not in line
    assert line["exception"].startswith("Traceback") and "ValueError: boom" in line["exception"]


def test_a_console_line_reads_as_text_with_the_request_id():
    record = logging.LogRecord("catalyst.requests", logging.INFO, __file__, 1, "GET api:health 200 3 ms", (), None)
    record.request_id = "abc"

    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO catalyst.requests \[abc\] GET api:health 200 3 ms",
        ConsoleFormatter().format(record),
    )


def _log_once(**environment) -> str:
    """What a fresh process started with these settings writes for one line (its stderr)."""
    env = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('catalyst.tests').info('hello %s', 'there', extra={'answer': 42}); "
        "logging.getLogger('django.request').warning('Not Found: /gone/')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "catalyst.settings", "DATABASE_URL": "", **environment},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=django_settings.BASE_DIR,
        check=True,
    )
    return result.stderr


def test_console_is_the_default_format_and_json_is_one_object_a_line():
    console = _log_once(DEBUG="1")
    as_json = _log_once(DEBUG="1", LOG_FORMAT="json")

    assert re.fullmatch(
        r"\S+ \S+ INFO catalyst.tests hello there\n\S+ \S+ WARNING django.request Not Found: /gone/\n", console
    )
    # Django's own lines too, and only once (its default handler would add a plain copy under DEBUG).
    first, second = (json.loads(line) for line in as_json.splitlines())
    assert (first["logger"], first["message"], first["answer"]) == ("catalyst.tests", "hello there", 42)
    assert (second["logger"], second["level"]) == ("django.request", "WARNING")


# --- What is never logged ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_whole_journey_logs_no_secret_and_one_line_per_request(settings, json_log, quick_chat, fake_gemini):
    """Sign up, make a token, chat on the page and through the API: grep every line for each secret.

    DEBUG is on and every logger's lowest level is taken, so the SQL and
    MongoDB commands and model requests written at DEBUG are put to the test too.
    """
    settings.DEBUG = True
    settings.GEMINI_API_KEY = "gemini-key-6b1f0c9e2d"
    settings.OPENAI_API_KEY = "openai-key-93aa17c5e0"
    password = "Wombat-Sunrise-4471"
    page_text = "Plan the marsupial picnic for 9 guests"
    api_text = "Budget the echidna observatory"
    fake_gemini.script(Reply(["A plan", " for you."]))  # for both messages
    browser = Client(enforce_csrf_checks=True)
    responses = []

    def visit(client, method, path, **kwargs):
        response = getattr(client, method)(path, **kwargs)
        responses.append(response)
        return response

    visit(browser, "get", "/accounts/signup/")
    csrf_token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    signed_up = visit(
        browser,
        "post",
        "/accounts/signup/",
        data={
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "password1": password,
            "password2": password,
            "csrfmiddlewaretoken": csrf_token,
        },
    )
    assert signed_up.status_code == 302
    session_id = browser.cookies[settings.SESSION_COOKIE_NAME].value
    csrf_token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    visit(
        browser, "post", "/accounts/profile/tokens/", data={"token-name": "script", "csrfmiddlewaretoken": csrf_token}
    )
    profile = visit(browser, "get", "/accounts/profile/")
    raw_token = re.search(r'id="new-token">([^<]+)<', profile.content.decode())[1]
    sent = visit(
        browser,
        "post",
        "/chat/send/",
        data={"message": page_text},
        headers={"HX-Request": "true", "X-CSRFToken": csrf_token},
    )
    assert sent.status_code == 200
    chat = ChatHistory.objects.get(message=page_text)
    responses.append(response := browser.get(f"/chat/{chat.pk}/stream/"))
    assert "event: done" in b"".join(response.streaming_content).decode()
    api = Client()
    bearer = {"Authorization": f"Bearer {raw_token}"}
    assert visit(api, "get", "/api/account/me", headers=bearer).status_code == 200
    streamed = visit(
        api,
        "post",
        "/api/chat/send",
        data={"message": api_text, "chatType": "project-planning"},
        content_type="application/json",
        headers={**bearer, "Accept": "text/event-stream"},
    )
    assert "event: done" in b"".join(streamed.streaming_content).decode()
    assert visit(api, "get", f"/api/chat/history/{chat.user_id}", headers=bearer).status_code == 200
    visit(browser, "post", "/accounts/logout/", data={"csrfmiddlewaretoken": csrf_token})
    wait_for(lambda: len(json_log.replies()) == 2)

    for secret in (password, raw_token, page_text, api_text, session_id, csrf_token, *_pieces_of(raw_token)):
        assert secret not in json_log.text, secret
    for secret in (settings.GEMINI_API_KEY, settings.OPENAI_API_KEY):
        assert secret not in json_log.text
    assert fake_gemini.requests, "the journey reached the model, with its key"
    ids = [response["X-Request-ID"] for response in responses]
    assert len(set(ids)) == len(ids)
    assert [line["request_id"] for line in json_log.requests()] == ids
    assert [line["status"] for line in json_log.requests()] == [response.status_code for response in responses]
    assert [line["streamed"] for line in json_log.requests()] == [response.streaming for response in responses]
    replies = json_log.replies()
    assert {(line["provider"], line["status"]) for line in replies} == {("gemini", "complete")}


def _pieces_of(raw_token: str) -> list[str]:
    # A token's secret part alone (after its prefix) must not appear either.
    return [part for part in raw_token.split("_") if len(part) >= 16]
