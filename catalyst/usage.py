"""The admin's Usage page: the metrics' figures, for people.

Messages and tokens per day and the biggest users come from the chat
records (three queries, whatever they hold); requests, errors and slow
routes from the recorded metrics (every worker's in multiprocess mode, else
this process's, since it started); storage from the metrics' store snapshot.
"""

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, TruncDay
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from catalyst import metrics
from chat.models import ChatHistory

DAYS = 30
TOP_USERS = 10
SLOWEST_ROUTES = 10


def _window_start(days: int) -> tuple[datetime.date, datetime.datetime]:
    """The first day of the last ``days`` days (today included), and the moment it began, in the site's zone."""
    first = timezone.localdate() - datetime.timedelta(days=days - 1)
    return first, timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


# --- From the chat records --------------------------------------------------------


@dataclass
class DayUse:
    day: datetime.date
    messages: int = 0
    tokens: int = 0


def daily_use(*, days: int = DAYS) -> list[DayUse]:
    """Messages and model tokens (in and out) per day in the site's time zone, oldest first: one query."""
    first, start = _window_start(days)
    rows = (
        ChatHistory.objects.filter(created_at__gte=start)
        .annotate(day=TruncDay("created_at"))
        .values("day")
        .annotate(messages=Count("pk"), prompt=Sum("prompt_tokens"), response=Sum("response_tokens"))
        .order_by()
    )
    by_day = {first + datetime.timedelta(days=n): DayUse(first + datetime.timedelta(days=n)) for n in range(days)}
    for row in rows:
        moment = row["day"]
        day = timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
        if day in by_day:
            by_day[day].messages += row["messages"]
            by_day[day].tokens += (row["prompt"] or 0) + (row["response"] or 0)
    return list(by_day.values())


@dataclass
class UserUse:
    user: User | None
    messages: int
    tokens: int


def top_users_by_tokens(*, days: int = DAYS, limit: int = TOP_USERS) -> list[UserUse]:
    """The users who spent the most model tokens in the last ``days`` days: two queries."""
    _, start = _window_start(days)
    rows = list(
        ChatHistory.objects.filter(created_at__gte=start)
        .values("user")
        .annotate(messages=Count("pk"), tokens=Coalesce(Sum("prompt_tokens"), 0) + Coalesce(Sum("response_tokens"), 0))
        .order_by("-tokens", "user")[:limit]
    )
    users = User.objects.in_bulk([row["user"] for row in rows])
    return [UserUse(users.get(row["user"]), row["messages"], row["tokens"]) for row in rows]


# --- A bar chart, drawn here and written as SVG by the template ---------------------------


@dataclass
class Bar:
    day: datetime.date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class BarChart:
    title: str
    bars: list[Bar]
    top: int
    width: int
    height: int

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def _nice_top(value: int) -> int:
    """The axis' top: ``value`` rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def bar_chart(days: list[DayUse], value: Callable[[DayUse], int], *, title: str, width=720, height=140) -> BarChart:
    """One bar per day, its height ``value`` against the axis' top (bars meet the bottom at ``height``)."""
    top = _nice_top(max((value(day) for day in days), default=0))
    slot = width / max(len(days), 1)
    gap = min(2.0, slot / 4)
    bar_width = round(slot - gap, 2)
    bars = []
    for n, day in enumerate(days):
        amount = value(day)
        tall = round(height * amount / top, 2)
        x = round(n * slot + gap / 2, 2)
        bars.append(Bar(day=day.day, value=amount, x=x, y=round(height - tall, 2), width=bar_width, height=tall))
    return BarChart(title=title, bars=bars, top=top, width=width, height=height)


# --- From the recorded metrics --------------------------------------------------------


@dataclass
class RouteTimes:
    route: str
    requests: int
    mean_seconds: float
    #: The smallest histogram bound at or under which 95% of the requests started.
    p95_under: float

    @property
    def mean_ms(self) -> float:
        return self.mean_seconds * 1000


@dataclass
class RequestFigures:
    total: int
    by_status: dict[str, int]
    slowest: list[RouteTimes]
    replies: dict[str, int]
    reply_errors: dict[str, int]

    @property
    def replies_total(self) -> int:
        return sum(self.replies.values())

    @property
    def headline(self) -> list[tuple[str, int, float | None]]:
        """(what, how many, percent of its whole) for the page's summary."""
        server_errors = self.by_status.get("5xx", 0)
        refused = self.by_status.get("4xx", 0)
        incomplete = self.replies_total - self.replies.get("complete", 0)
        return [
            ("Requests", self.total, None),
            ("Server errors (5xx)", server_errors, _percent(server_errors, self.total)),
            ("Refused or not found (4xx)", refused, _percent(refused, self.total)),
            ("Replies", self.replies_total, None),
            ("Replies not complete", incomplete, _percent(incomplete, self.replies_total)),
        ]


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def request_figures(*, slowest: int = SLOWEST_ROUTES) -> RequestFigures:
    """Requests by status class, the routes slowest to start answering, and replies by how they ended."""
    by_status: dict[str, int] = {}
    replies: dict[str, int] = {}
    reply_errors: dict[str, int] = {}
    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    buckets: dict[str, dict[float, float]] = {}
    for family in metrics.recorded_metrics():
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "catalyst_http_requests_total":
                by_status[labels["status"]] = by_status.get(labels["status"], 0) + int(sample.value)
            elif sample.name == "catalyst_chat_replies_finished_total":
                replies[labels["status"]] = replies.get(labels["status"], 0) + int(sample.value)
                if labels["error_kind"] != "none":
                    reply_errors[labels["error_kind"]] = reply_errors.get(labels["error_kind"], 0) + int(sample.value)
            elif sample.name.startswith("catalyst_http_request_duration_seconds"):
                route = labels["route"]
                if sample.name.endswith("_count"):
                    counts[route] = counts.get(route, 0) + sample.value
                elif sample.name.endswith("_sum"):
                    sums[route] = sums.get(route, 0) + sample.value
                elif sample.name.endswith("_bucket"):
                    bound = float(labels["le"])
                    route_buckets = buckets.setdefault(route, {})
                    route_buckets[bound] = route_buckets.get(bound, 0) + sample.value
    times = [
        RouteTimes(route, int(count), sums.get(route, 0) / count, _quantile_bound(buckets.get(route, {}), count, 0.95))
        for route, count in counts.items()
        if count
    ]
    times.sort(key=lambda times: (-times.mean_seconds, times.route))
    return RequestFigures(
        total=sum(by_status.values()),
        by_status=dict(sorted(by_status.items())),
        slowest=times[:slowest],
        replies=replies,
        reply_errors=dict(sorted(reply_errors.items(), key=lambda item: -item[1])),
    )


def _quantile_bound(buckets: dict[float, float], count: float, quantile: float) -> float:
    for bound in sorted(buckets):
        if buckets[bound] >= quantile * count:
            return bound
    return math.inf


# --- The page -------------------------------------------------------------------------


@dataclass
class CollectionStorage:
    name: str
    rows: int
    size_bytes: int | None


@require_GET
def usage(request: HttpRequest) -> TemplateResponse:
    """Staff only: served through ``admin.site.admin_view`` (catalyst/urls.py)."""
    days = daily_use()
    snapshot = metrics.store_snapshot()
    storage = [
        CollectionStorage(name, rows, snapshot.collection_bytes.get(name)) for name, rows in snapshot.rows.items()
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Usage",
        "days": DAYS,
        "daily": days,
        "messages_chart": bar_chart(days, lambda day: day.messages, title="Messages per day"),
        "tokens_chart": bar_chart(days, lambda day: day.tokens, title="Model tokens per day"),
        "top_users": top_users_by_tokens(),
        "requests": request_figures(),
        "multiprocess": bool(metrics.MULTIPROCESS_DIR),
        "snapshot": snapshot,
        "storage": sorted(storage, key=lambda collection: -collection.rows),
        "time_zone": timezone.get_current_timezone_name(),
    }
    return TemplateResponse(request, "admin/usage.html", context)
