"""The admin's Usage page: staff only, its chart's bars, its figures and its fixed query count."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalyst import usage
from tests.factories import ChatHistoryFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

BAR = re.compile(
    r'<rect class="usage-chart__bar" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" '
    r'data-day="([\d-]+)" data-value="(\d+)">'
)


def local_moment(days_ago: int, hour: int) -> datetime.datetime:
    """``hour`` o'clock, ``days_ago`` days before today, in the site's time zone."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def charts(html: str) -> list[list[tuple[float, float, str, int]]]:
    """Each chart's bars as (y, height, day, value), in page order."""
    return [
        [(float(y), float(height), day, int(value)) for y, height, day, value in BAR.findall(figure)]
        for figure in html.split('<figure class="usage-chart">')[1:]
    ]


def test_people_who_are_not_staff_are_sent_to_the_admin_log_in(client):
    client.force_login(UserFactory())

    response = client.get("/admin/usage/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/usage/")


def test_signed_out_visitors_are_sent_to_the_admin_log_in(client):
    response = client.get("/admin/usage/")

    assert response.status_code == 302
    assert response["Location"].endswith("login/?next=/admin/usage/")


def test_the_admin_index_links_to_usage(staff_client):
    assert 'href="/admin/usage/"' in staff_client.get("/admin/").content.decode()


def test_the_chart_draws_one_bar_per_day_with_the_days_figures(staff_client, settings):
    # A zone far from UTC: each record must land on its local day, on both stores.
    settings.TIME_ZONE = "Asia/Tokyo"
    user = UserFactory()
    for _ in range(4):
        ChatHistoryFactory(user=user, created_at=local_moment(0, 1), prompt_tokens=100, response_tokens=50)
    ChatHistoryFactory(user=user, created_at=local_moment(2, 23), prompt_tokens=20, response_tokens=None)
    ChatHistoryFactory(user=user, created_at=local_moment(2, 0), prompt_tokens=None, response_tokens=None)
    ChatHistoryFactory(user=user, created_at=local_moment(31, 12), prompt_tokens=9999, response_tokens=9999)

    html = staff_client.get("/admin/usage/").content.decode()

    messages, tokens = charts(html)
    assert len(messages) == len(tokens) == 30
    today = timezone.localdate()
    days = {day: (y, height, value) for y, height, day, value in messages}
    assert list(days) == [str(today - datetime.timedelta(days=n)) for n in range(29, -1, -1)]
    # Four messages today, two the day before yesterday, none otherwise (31 days ago is outside).
    assert days[str(today)][2] == 4
    assert days[str(today - datetime.timedelta(days=2))][2] == 2
    assert sum(value for *_, value in messages) == 6
    # The axis' top is 5 (4 rounded up): four reach 4/5 of the 140 px, two 2/5; all stand on the base line.
    assert days[str(today)][1] == pytest.approx(140 * 4 / 5)
    assert days[str(today - datetime.timedelta(days=2))][1] == pytest.approx(140 * 2 / 5)
    assert all(y + height == pytest.approx(140) for y, height, _ in days.values())
    token_days = {day: value for _, _, day, value in tokens}
    assert token_days[str(today)] == 600
    assert token_days[str(today - datetime.timedelta(days=2))] == 20
    assert "6 in all" in html and "620 in all" in html


def test_biggest_users_by_tokens_come_first(staff_client):
    small, big = UserFactory(email="small@example.com"), UserFactory(email="big@example.com")
    ChatHistoryFactory(user=small, prompt_tokens=10, response_tokens=5)
    ChatHistoryFactory(user=big, prompt_tokens=1000, response_tokens=None)
    ChatHistoryFactory(user=big, prompt_tokens=None, response_tokens=None)

    top = usage.top_users_by_tokens()

    assert [(use.user.email, use.messages, use.tokens) for use in top] == [
        ("big@example.com", 2, 1000),
        ("small@example.com", 1, 15),
    ]
    html = staff_client.get("/admin/usage/").content.decode()
    assert html.index("big@example.com") < html.index("small@example.com")


def test_the_page_shows_storage_errors_and_the_slowest_routes(staff_client):
    ProjectFactory()
    staff_client.get("/no/such/page/")
    staff_client.get("/api/health")

    html = staff_client.get("/admin/usage/").content.decode()

    assert "<code>projects</code>" in html and "<code>chathistories</code>" in html
    assert "Refused or not found (4xx)" in html
    # The slowest routes of this process: the page's ten, and the health check among all of them.
    slowest = usage.request_figures().slowest
    assert 0 < len(slowest) <= usage.SLOWEST_ROUTES
    assert all(f"<code>{times.route}</code>" in html for times in slowest)
    assert "api:health" in {times.route for times in usage.request_figures(slowest=1000).slowest}
    assert "the process that served this page alone" in html


def test_request_figures_read_the_recorded_metrics():
    from catalyst import metrics

    before = usage.request_figures(slowest=1000)
    metrics.REQUESTS.labels(route="test:usage", method="GET", status="5xx").inc()
    metrics.REQUEST_SECONDS.labels(route="test:usage", status="5xx").observe(30.0)
    after = usage.request_figures(slowest=1000)

    assert after.total - before.total == 1
    assert after.by_status["5xx"] - before.by_status.get("5xx", 0) == 1
    slowest = after.slowest[0]
    assert slowest.route == "test:usage" and slowest.p95_under == float("inf")


def _page_queries(client) -> int:
    cache.clear()  # the store snapshot is read afresh each time, as on its first visit
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/usage/").status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_whatever_the_data(staff_client):
    ChatHistoryFactory(prompt_tokens=5, response_tokens=5)
    small = _page_queries(staff_client)
    for days_ago in range(0, 40, 3):
        user = UserFactory()
        ProjectFactory(owner=user)
        for hour in (1, 6, 12, 18, 22):
            ChatHistoryFactory(user=user, created_at=local_moment(days_ago, hour), prompt_tokens=10, response_tokens=3)

    assert _page_queries(staff_client) == small


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_see_the_charts_drawn_in_a_browser(page, log_in, tmp_path):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for days_ago, count in ((0, 3), (1, 1), (5, 2)):
        ChatHistoryFactory.create_batch(count, user=staff, created_at=local_moment(days_ago, 12), prompt_tokens=80)
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    log_in(staff)

    page.goto("/admin/")
    page.screenshot(path=tmp_path / "index.png")
    page.get_by_role("link", name="Usage").click()
    page.wait_for_url("**/admin/usage/")

    bars = page.locator("rect.usage-chart__bar")
    assert bars.count() == 60
    today = bars.nth(29).bounding_box()
    yesterday = bars.nth(28).bounding_box()
    assert today["height"] == pytest.approx(3 * yesterday["height"], rel=0.05)
    # Our stylesheet reached the page: the bars take the admin's colour, not SVG's default black.
    assert bars.first.evaluate("bar => getComputedStyle(bar).fill") != "rgb(0, 0, 0)"
    assert page.get_by_role("img", name=re.compile("Messages per day: 6 messages")).is_visible()
    assert not refused
    page.screenshot(path=tmp_path / "usage.png", full_page=True)
