"""Metrics in the Prometheus text format at ``/metrics``, and the figures behind them.

Recorded as things happen: requests (``MetricsMiddleware``: by route name and
status class, timed to the response's start, with the database queries made
until then), unhandled exceptions by kind, and the chat's replies (receivers
of ``chat.signals``). Read at scrape time: replies being written now, users
active in the last day, rows and bytes per collection and the database's size
(``store_snapshot``, a fixed number of queries, kept for a minute).

One process keeps its figures in memory. With several workers, set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder of their own (emptied before
each start): every worker writes its figures there and a scrape answered by
any worker reads them all (prometheus-client's multiprocess mode).
"""

import atexit
import datetime
import glob
import hmac
import ipaddress
import logging
import os
import re
import time
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from catalyst.clients import client_address
from catalyst.middleware import SyncAndAsyncMiddleware
from catalyst.queries import DatabaseUse, database_counted

logger = logging.getLogger(__name__)

#: Set when several processes share their figures through files in this folder.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

#: The apps whose models' collections are counted and measured.
STORE_APPS = ("accounts", "projects", "chat")
#: Seconds a store snapshot (counts, sizes, active users) is kept before it is read again.
STORE_SNAPSHOT_SECONDS = 60
STORE_SNAPSHOT_KEY = "metrics:store-snapshot"

# A "_created" timestamp beside every series doubles a scrape and tells Prometheus nothing it uses.
disable_created_metrics()

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "catalyst_http_requests",
    "Requests answered, by route name, method and status class.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "catalyst_http_request_duration_seconds",
    "Seconds until the response started (an event stream's start, not its end), by route name and status class.",
    ["route", "status"],
)
REQUEST_QUERIES = Histogram(
    "catalyst_http_request_db_queries",
    "Database queries (MongoDB: commands) a request made before its response started, by route name.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, float("inf")),
)
REQUEST_DB_SECONDS = Histogram(
    "catalyst_http_request_db_seconds",
    "Seconds a request spent in the database before its response started, by route name.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, float("inf")),
)
EXCEPTIONS = Counter(
    "catalyst_http_exceptions",
    "Exceptions a view raised and nothing handled (answered 500), by kind (the exception's class) and route name.",
    ["kind", "route"],
)
REPLIES_STARTED = Counter(
    "catalyst_chat_replies_started",
    "Replies the model was asked for: a message sent, a retry or a continue; by provider, model and chat type.",
    ["provider", "model", "chat_type"],
)
REPLIES_FINISHED = Counter(
    "catalyst_chat_replies_finished",
    "Replies ended, by provider, model, chat type, final status and error kind ('none' when complete).",
    ["provider", "model", "chat_type", "status", "error_kind"],
)
REPLIES_LIVE = Gauge(
    "catalyst_chat_replies_live",
    "Replies being written now (every worker's added up).",
    multiprocess_mode="livesum",
)
TOKENS = Counter(
    "catalyst_chat_tokens",
    "Model tokens in (the prompt) and out (the reply), by provider and model; "
    "estimated='true' when the model's server reported none.",
    ["provider", "model", "direction", "estimated"],
)
FIRST_TOKEN_SECONDS = Histogram(
    "catalyst_chat_first_token_seconds",
    "Seconds from asking the model to its first text, by provider and model.",
    ["provider", "model"],
    buckets=(0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13, 21, 30, 60, float("inf")),
)
REPLY_SECONDS = Histogram(
    "catalyst_chat_reply_duration_seconds",
    "Seconds a reply took from start to end, by provider, model and final status.",
    ["provider", "model", "status"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, float("inf")),
)


# --- Requests -------------------------------------------------------------


def route_name(request: HttpRequest) -> str:
    """The route a request matched, by name: never its path, which holds ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


class MetricsMiddleware(SyncAndAsyncMiddleware):
    """Counts and times each request, and the database queries it makes, until its response starts.

    The response passes through untouched: an event stream is neither
    buffered nor waited for, and its time is the time to its start.
    """

    def call(self, request):
        started = time.perf_counter()
        with database_counted() as use:
            response = self.get_response(request)
        self._record(request, response, started, use)
        return response

    async def acall(self, request):
        started = time.perf_counter()
        with database_counted() as use:
            response = await self.get_response(request)
        self._record(request, response, started, use)
        return response

    def process_exception(self, request, exception):
        EXCEPTIONS.labels(kind=type(exception).__name__, route=route_name(request)).inc()

    @staticmethod
    def _record(request, response, started: float, use: DatabaseUse) -> None:
        seconds = time.perf_counter() - started
        route = route_name(request)
        status = _status_class(response.status_code)
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(route=route, method=method, status=status).inc()
        REQUEST_SECONDS.labels(route=route, status=status).observe(seconds)
        REQUEST_QUERIES.labels(route=route).observe(use.queries)
        REQUEST_DB_SECONDS.labels(route=route).observe(use.seconds)


# --- The chat's replies ---------------------------------------------------


def _replies_live_update() -> None:
    from chat.generation import live_count

    REPLIES_LIVE.set(live_count())


def _reply_started(sender, *, provider: str, model: str, chat_type: str, **kwargs) -> None:
    REPLIES_STARTED.labels(provider=provider, model=model, chat_type=chat_type).inc()
    _replies_live_update()


def _reply_finished(
    sender,
    *,
    provider: str,
    model: str,
    chat_type: str,
    status: str,
    error_kind: str,
    prompt_tokens: int | None,
    response_tokens: int | None,
    tokens_estimated: bool,
    first_token_seconds: float | None,
    seconds: float,
    **kwargs,
) -> None:
    REPLIES_FINISHED.labels(
        provider=provider, model=model, chat_type=chat_type, status=status, error_kind=error_kind or "none"
    ).inc()
    estimated = "true" if tokens_estimated else "false"
    for direction, tokens in (("in", prompt_tokens), ("out", response_tokens)):
        if tokens:
            TOKENS.labels(provider=provider, model=model, direction=direction, estimated=estimated).inc(tokens)
    if first_token_seconds is not None:
        FIRST_TOKEN_SECONDS.labels(provider=provider, model=model).observe(first_token_seconds)
    REPLY_SECONDS.labels(provider=provider, model=model, status=status).observe(seconds)
    _replies_live_update()


# --- What the store holds, read at scrape time ----------------------------


@dataclass
class StoreSnapshot:
    """Rows and bytes per collection, the database's size and users active in the last day."""

    taken_at: datetime.datetime
    active_users: int
    size_bytes: int | None
    rows: dict[str, int] = field(default_factory=dict)
    #: Bytes per collection with its indexes, where the store says (SQLite needs its dbstat table).
    collection_bytes: dict[str, int] = field(default_factory=dict)


def _store_models() -> list:
    return [model for label in STORE_APPS for model in apps.get_app_config(label).get_models()]


def _active_users(since: datetime.datetime) -> int:
    """Users who signed in, used an API token or sent a chat message since ``since`` (three queries)."""
    from accounts.models import ApiToken, User
    from chat.models import ChatHistory

    active = set(User.objects.filter(last_login__gte=since).values_list("pk", flat=True))
    for records, moment in ((ChatHistory.objects, "created_at"), (ApiToken.objects, "last_used_at")):
        active.update(records.filter(**{f"{moment}__gte": since}).order_by().values_list("user", flat=True).distinct())
    return len(active)


def _mongodb_storage(snapshot: StoreSnapshot) -> None:
    # One $collStats per collection (its count is the collection's metadata,
    # not a scan), and dbStats for the whole database.
    database = connection.database
    for model in _store_models():
        name = model._meta.db_table
        stats = [part["storageStats"] for part in database[name].aggregate([{"$collStats": {"storageStats": {}}}])]
        snapshot.rows[name] = sum(part.get("count", 0) for part in stats)
        snapshot.collection_bytes[name] = sum(
            part.get("storageSize", 0) + part.get("totalIndexSize", 0) for part in stats
        )
    stats = database.command("dbstats")
    snapshot.size_bytes = int(stats.get("totalSize", stats.get("storageSize", 0) + stats.get("indexSize", 0)))


def _sqlite_storage(snapshot: StoreSnapshot) -> None:
    from django.db import DatabaseError

    for model in _store_models():
        snapshot.rows[model._meta.db_table] = model._default_manager.count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        snapshot.size_bytes = cursor.fetchone()[0]
        try:
            cursor.execute(
                "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat AS d JOIN sqlite_master AS m ON m.name = d.name "
                "GROUP BY m.tbl_name"
            )
        except DatabaseError:  # SQLite built without its dbstat table: sizes per collection unknown
            return
        sizes = dict(cursor.fetchall())
    snapshot.collection_bytes = {name: sizes.get(name, 0) for name in snapshot.rows}


def store_snapshot_take() -> StoreSnapshot:
    """Read the store now: a fixed number of queries, whatever it holds."""
    now = timezone.now()
    snapshot = StoreSnapshot(
        taken_at=now, active_users=_active_users(now - datetime.timedelta(days=1)), size_bytes=None
    )
    if connection.vendor == "mongodb":
        _mongodb_storage(snapshot)
    else:
        _sqlite_storage(snapshot)
    return snapshot


def store_snapshot() -> StoreSnapshot:
    """The store as read at most ``STORE_SNAPSHOT_SECONDS`` ago (shared by workers through the cache)."""
    snapshot = cache.get(STORE_SNAPSHOT_KEY)
    if snapshot is None:
        snapshot = store_snapshot_take()
        cache.set(STORE_SNAPSHOT_KEY, snapshot, timeout=STORE_SNAPSHOT_SECONDS)
    return snapshot


class StoreCollector:
    """The store snapshot as metric families."""

    def collect(self):
        try:
            snapshot = store_snapshot()
        except Exception:
            # A scrape still reports requests and replies while the database is down.
            logger.exception("Reading the store for metrics failed")
            return
        yield GaugeMetricFamily(
            "catalyst_users_active_1d",
            "Users who signed in, used an API token or sent a chat message in the last 24 hours.",
            value=snapshot.active_users,
        )
        rows = GaugeMetricFamily("catalyst_store_rows", "Rows (documents) per collection.", labels=["collection"])
        for name, count in snapshot.rows.items():
            rows.add_metric([name], count)
        yield rows
        if snapshot.collection_bytes:
            sizes = GaugeMetricFamily(
                "catalyst_store_collection_bytes",
                "Bytes per collection with its indexes, as the store reports them.",
                labels=["collection"],
            )
            for name, size in snapshot.collection_bytes.items():
                sizes.add_metric([name], size)
            yield sizes
        if snapshot.size_bytes is not None:
            yield GaugeMetricFamily(
                "catalyst_store_size_bytes",
                "The database's size in bytes, indexes included.",
                value=snapshot.size_bytes,
            )
        yield GaugeMetricFamily(
            "catalyst_store_snapshot_age_seconds",
            "Seconds since the store figures above were read.",
            value=(timezone.now() - snapshot.taken_at).total_seconds(),
        )


# --- Reading and serving ----------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_workers() -> None:
    # A worker that has ended (stopped by a signal, killed, crashed) leaves its
    # live gauges behind; drop them, or the replies it was writing would count forever.
    for path in glob.glob(os.path.join(MULTIPROCESS_DIR, "gauge_live*_*.db")):
        found = re.search(r"_(\d+)\.db$", path)
        if found and not _pid_alive(int(found[1])):
            mark_process_dead(int(found[1]), MULTIPROCESS_DIR)


def recorded_metrics():
    """The metric families recorded so far: every worker's when they share a folder, else this process's."""
    _replies_live_update()
    if MULTIPROCESS_DIR:
        _forget_dead_workers()
        return list(MultiProcessCollector(None, MULTIPROCESS_DIR).collect())
    return list(REGISTRY.collect())


class _Scrape:
    """What one scrape reports: the recorded figures and the store's."""

    def collect(self):
        yield from recorded_metrics()
        yield from StoreCollector().collect()


def metrics_enabled() -> bool:
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOWED_NETWORKS)


def scraper_allowed(request: HttpRequest) -> bool:
    """A bearer ``METRICS_TOKEN``, or a client address in ``METRICS_ALLOWED_IPS``."""
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


@login_not_required
@require_GET
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus scrape target.

    Absent (404) unless ``METRICS_TOKEN`` or ``METRICS_ALLOWED_IPS`` is set.
    When it is on, a scraper without the token or an allowed address gets
    403, not 404: ``/metrics`` is the standard path, so hiding it protects
    nothing, and 403 tells whoever sets up the scraper that the credentials,
    not the address of the site, are wrong.
    """
    if not metrics_enabled():
        raise Http404
    if not scraper_allowed(request):
        return HttpResponse(
            "Metrics need the bearer token METRICS_TOKEN or a client address in METRICS_ALLOWED_IPS.\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(_Scrape()), content_type=content_type)


def install() -> None:
    """Connect the recorders: called once, from the project's app config."""
    from chat import signals

    signals.reply_started.connect(_reply_started, dispatch_uid="catalyst.metrics.reply_started")
    signals.reply_finished.connect(_reply_finished, dispatch_uid="catalyst.metrics.reply_finished")
    if MULTIPROCESS_DIR:
        # A process that exits normally (a management command) takes its live gauges with it. A uvicorn
        # worker ends by its signal, past atexit: ``_forget_dead_workers`` drops its share at the next scrape.
        atexit.register(mark_process_dead, os.getpid(), MULTIPROCESS_DIR)
