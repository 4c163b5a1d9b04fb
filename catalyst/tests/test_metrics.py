"""/metrics: who may scrape it, and that its figures move with what the site does.

Figures are process-wide and the suite shares a process, so each test reads
how much a figure moved between two scrapes, never its absolute value.
"""

import ipaddress
import os
import threading

import httpx2
import pytest
from django.contrib.auth.decorators import login_not_required
from django.test import Client
from django.urls import include, path
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import ApiToken
from catalyst import metrics
from catalyst.queries import database_counted
from chat.models import ChatHistory
from chat.tests.helpers import wait_for, wait_until_settled
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory
from tests.fake_gemini import Failure, Reply

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


def _boom(request):
    raise ZeroDivisionError("a view that fails")


# For the test of unhandled exceptions (``@pytest.mark.urls(__name__)``).
urlpatterns = [path("boom/", login_not_required(_boom), name="boom"), path("", include("catalyst.urls"))]


@pytest.fixture(autouse=True)
def _metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []


def scrape(client=None) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, keyed by its name and labels."""
    response = (client or Client()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def moved(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0) - before.get(key, 0)


def scrape_once_finished(before: dict, **labels) -> dict:
    """A scrape taken once a reply's end was counted: the reply's signal comes just after its last event."""
    found = {}

    def finished() -> bool:
        found.update(scrape())
        return moved(before, found, "catalyst_chat_replies_finished_total", **labels) >= 1

    wait_for(finished)
    return found


def routes(samples: dict) -> set[str]:
    return {value for (_, labels) in samples for label, value in labels if label == "route"}


# --- Who may scrape -----------------------------------------------------------


def test_without_a_token_or_allowed_address_metrics_are_absent(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_scraper_without_the_token_is_refused(client, authorization):
    headers = {"Authorization": authorization} if authorization else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 403
    assert b"catalyst_" not in response.content


def test_the_token_scrapes_in_the_prometheus_text_format(client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {"catalyst_http_requests", "catalyst_chat_tokens", "catalyst_store_rows"} <= names


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client):
    response = client.get(
        "/metrics", headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/openmetrics-text"}
    )

    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.endswith(b"# EOF\n")


def test_an_allowed_address_scrapes_without_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    forwarded = {"X-Forwarded-For": "10.1.2.3"}

    # Anyone can write the header: from an unknown client it is not believed.
    assert client.get("/metrics", headers=forwarded, REMOTE_ADDR="192.0.2.7").status_code == 403
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("192.0.2.7/32")]
    assert client.get("/metrics", headers=forwarded, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_metrics_need_no_sign_in_and_refuse_writes(client):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 405


# --- Requests -----------------------------------------------------------------


def test_requests_are_counted_by_route_name_and_status_class_never_by_path(client):
    task = TaskFactory()
    client.force_login(task.project.owner)
    before = scrape()

    assert client.get(f"/projects/{task.project.pk}/").status_code == 200
    assert client.get(f"/projects/{task.project.pk}/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    assert client.get("/api/health").status_code == 200
    after = scrape()

    assert (
        moved(before, after, "catalyst_http_requests_total", route="projects:detail", method="GET", status="2xx") == 2
    )
    assert moved(before, after, "catalyst_http_requests_total", route="unmatched", method="GET", status="4xx") == 1
    assert moved(before, after, "catalyst_http_requests_total", route="api:health", method="GET", status="2xx") == 1
    assert (
        moved(before, after, "catalyst_http_request_duration_seconds_count", route="projects:detail", status="2xx") == 2
    )
    # The page reads the database (session, user, project, tasks): every query is counted and timed.
    assert moved(before, after, "catalyst_http_request_db_queries_count", route="projects:detail") == 2
    assert moved(before, after, "catalyst_http_request_db_queries_sum", route="projects:detail") >= 6
    assert moved(before, after, "catalyst_http_request_db_seconds_sum", route="projects:detail") > 0
    assert "projects:detail" in routes(after)
    assert not any("/" in route or str(task.project.pk) in route for route in routes(after))


@pytest.mark.urls(__name__)
def test_an_unhandled_exception_is_counted_by_kind():
    client = Client(raise_request_exception=False)
    before = scrape(client)

    assert client.get("/boom/").status_code == 500
    after = scrape(client)

    assert moved(before, after, "catalyst_http_exceptions_total", kind="ZeroDivisionError", route="boom") == 1
    assert moved(before, after, "catalyst_http_requests_total", route="boom", method="GET", status="5xx") == 1


def test_an_unknown_method_is_one_label_not_many(client):
    before = scrape()

    client.generic("BREW", "/api/health")
    after = scrape()

    assert moved(before, after, "catalyst_http_requests_total", route="api:health", method="other", status="4xx") == 1


# --- The chat's replies ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reply_moves_the_reply_token_and_first_token_figures(client, quick_chat, fake_gemini):
    fake_gemini.script(Reply(["Plan", " the launch."], prompt_tokens=40, response_tokens=9))
    client.force_login(UserFactory())
    model = {"provider": "gemini", "model": "gemini-test-model"}
    before = scrape()

    response = client.post("/api/chat/send", {"message": "Help me plan"}, content_type="application/json")
    assert response.status_code == 200
    finished = {**model, "chat_type": "project-planning", "status": "complete", "error_kind": "none"}
    after = scrape_once_finished(before, **finished)

    assert moved(before, after, "catalyst_chat_replies_started_total", **model, chat_type="project-planning") == 1
    assert moved(before, after, "catalyst_chat_replies_finished_total", **finished) == 1
    assert moved(before, after, "catalyst_chat_tokens_total", **model, direction="in", estimated="false") == 40
    assert moved(before, after, "catalyst_chat_tokens_total", **model, direction="out", estimated="false") == 9
    assert moved(before, after, "catalyst_chat_first_token_seconds_count", **model) == 1
    assert moved(before, after, "catalyst_chat_reply_duration_seconds_count", **model, status="complete") == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_reply_is_counted_by_its_status_and_error_kind(client, quick_chat, fake_gemini, settings):
    settings.CHAT_PROVIDER_RETRIES = 0
    fake_gemini.script(Failure(500))
    client.force_login(UserFactory())
    before = scrape()

    client.post("/api/chat/send", {"message": "Help me plan"}, content_type="application/json")
    chat = wait_until_settled(ChatHistory.objects.get())
    assert chat.error_kind == "unavailable"
    model = {"provider": "gemini", "model": "gemini-test-model"}
    finished = {**model, "chat_type": "project-planning", "status": chat.status, "error_kind": "unavailable"}
    after = scrape_once_finished(before, **finished)

    assert moved(before, after, "catalyst_chat_replies_finished_total", **finished) == 1
    # No text came, so no first token.
    assert moved(before, after, "catalyst_chat_first_token_seconds_count", **model) == 0


@pytest.mark.django_db(transaction=True)
def test_the_offline_assistant_is_counted_under_its_own_name(client, quick_chat):
    client.force_login(UserFactory())
    before = scrape()

    client.post("/api/chat/send", {"message": "Plan a bake sale"}, content_type="application/json")
    after = scrape()

    offline = {"provider": "offline", "model": "offline", "chat_type": "project-planning"}
    assert moved(before, after, "catalyst_chat_replies_started_total", **offline) == 1


@pytest.mark.django_db(transaction=True)
def test_a_streamed_reply_is_timed_to_its_start_and_counted_live_while_it_runs(asgi_server, quick_chat, fake_gemini):
    release = threading.Event()
    fake_gemini.script(Reply(["Early", " and late."], hold=release, hold_after=1))
    _, token = ApiToken.issue(user=UserFactory(), name="stream test")
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    before = scrape()

    http = httpx2.Client(base_url=asgi_server, timeout=10)
    with http, http.stream("POST", "/api/chat/send", json={"message": "Hi"}, headers=headers) as response:
        lines = response.iter_lines()
        assert any("Early" in line for line in lines)  # the stream flows through the middleware
        during = scrape()
        release.set()
        rest = "\n".join(lines)
    assert "event: done" in rest
    wait_until_settled(ChatHistory.objects.get())
    wait_for(lambda: scrape()[("catalyst_chat_replies_live", frozenset())] == 0)

    # Counted once the response started, while the model was still held.
    assert moved(before, during, "catalyst_http_requests_total", route="api:send", method="POST", status="2xx") == 1
    assert during[("catalyst_chat_replies_live", frozenset())] >= 1
    assert moved(before, during, "catalyst_http_request_duration_seconds_count", route="api:send", status="2xx") == 1


# --- What the store holds ---------------------------------------------------------


def test_the_store_figures_count_rows_size_and_active_users(client):
    owner = UserFactory()
    client.force_login(owner)  # signed in now: active
    ChatHistoryFactory(user=UserFactory())  # wrote today: active
    UserFactory()  # neither
    ProjectFactory(owner=owner)
    ProjectFactory(owner=owner)

    samples = scrape()

    assert samples[("catalyst_users_active_1d", frozenset())] == 2
    assert samples[("catalyst_store_rows", frozenset({("collection", "projects")}))] == 2
    assert samples[("catalyst_store_rows", frozenset({("collection", "users")}))] == 3
    assert samples[("catalyst_store_rows", frozenset({("collection", "chathistories")}))] == 1
    assert samples[("catalyst_store_size_bytes", frozenset())] > 0


def test_the_store_is_read_at_most_once_a_minute(client, django_assert_num_queries):
    UserFactory()
    first = scrape()
    ProjectFactory()

    with django_assert_num_queries(0):
        metrics.StoreCollector().collect().__next__()
    second = scrape()

    projects = ("catalyst_store_rows", frozenset({("collection", "projects")}))
    assert first[projects] == second[projects] == 0


def _store_queries() -> int:
    with database_counted() as use:
        metrics.store_snapshot_take()
    return use.queries


def test_reading_the_store_costs_the_same_queries_whatever_it_holds():
    small = _store_queries()
    for _ in range(3):
        user = UserFactory()
        ProjectFactory.create_batch(3, owner=user)
        ChatHistoryFactory.create_batch(4, user=user)

    assert _store_queries() == small


def test_the_query_count_agrees_with_djangos_own(django_assert_num_queries):
    from django.db import connection

    if connection.vendor == "mongodb":
        pytest.skip("Django logs MongoDB commands only in part (not dbStats); the count above is the backend's.")
    with database_counted() as use:
        TaskFactory()
        list(ChatHistory.objects.all())
    with django_assert_num_queries(use.queries):
        TaskFactory()
        list(ChatHistory.objects.all())


def _live_replies_file(folder, pid: int, value: float) -> None:
    """A worker's share of the live-replies gauge, as prometheus-client writes it in multiprocess mode."""
    from prometheus_client.mmap_dict import MmapedDict, mmap_key

    gauge = metrics.REPLIES_LIVE
    written = MmapedDict(str(folder / f"gauge_livesum_{pid}.db"))
    written.write_value(mmap_key(gauge._name, gauge._name, [], [], gauge._documentation), value, 0)
    written.close()


def test_a_worker_that_died_without_saying_so_no_longer_counts_its_live_replies(tmp_path, monkeypatch):
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(ended.stdout)
    _live_replies_file(tmp_path, os.getpid(), 2)
    _live_replies_file(tmp_path, dead_pid, 5)
    monkeypatch.setattr(metrics, "MULTIPROCESS_DIR", str(tmp_path))

    live = [
        sample.value
        for family in metrics.recorded_metrics()
        for sample in family.samples
        if sample.name == "catalyst_chat_replies_live"
    ]

    assert live == [2]
    assert not (tmp_path / f"gauge_livesum_{dead_pid}.db").exists()


def test_a_count_inside_another_is_the_outer_one():
    # The request's log line and its metrics read one count, whichever middleware opened it.
    with database_counted() as outer:
        with database_counted() as inner:
            TaskFactory()
        list(ChatHistory.objects.all())

    assert inner is outer
    assert outer.queries > 1 and not outer.open
