"""The dashboard and the project page cost the same number of queries at any size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.tests.helpers import build_portfolio
from tests.factories import HTMX, UserFactory

pytestmark = pytest.mark.django_db

# Session, user, then the page's own queries (see the views).
DASHBOARD_BUDGET = 7
PROJECT_PAGE_BUDGET = 4
PROJECT_LIST_BUDGET = 4


def count_queries(client, url: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **kwargs)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.fixture
def small_and_large(client):
    """Two signed-in clients: one user with 1 project, one with 50 projects of 20 tasks."""
    small, large = UserFactory(), UserFactory()
    small_projects = build_portfolio(small, projects=1, tasks_per_project=20)
    large_projects = build_portfolio(large, projects=50, tasks_per_project=20)
    return (small, small_projects[0]), (large, large_projects[0])


def test_dashboard_query_count_does_not_grow_with_projects_and_tasks(
    client, small_and_large, django_assert_max_num_queries
):
    counts = []
    for user, _ in small_and_large:
        client.force_login(user)
        client.get("/")  # warm the session cache, as any visit after logging in does
        with django_assert_max_num_queries(DASHBOARD_BUDGET):
            counts.append(count_queries(client, "/"))
    assert counts[0] == counts[1]


def test_project_page_query_count_does_not_grow_with_tasks(client, small_and_large, django_assert_max_num_queries):
    counts = []
    for user, project in small_and_large:
        client.force_login(user)
        client.get("/")
        with django_assert_max_num_queries(PROJECT_PAGE_BUDGET):
            counts.append(count_queries(client, project.get_absolute_url()))
    assert counts[0] == counts[1]


def test_project_list_query_count_does_not_grow_with_projects(client, small_and_large, django_assert_max_num_queries):
    counts = []
    for user, _ in small_and_large:
        client.force_login(user)
        client.get("/")
        with django_assert_max_num_queries(PROJECT_LIST_BUDGET):
            counts.append(count_queries(client, "/projects/"))
    assert counts[0] == counts[1]


def test_task_change_query_count_does_not_grow_with_tasks(client, small_and_large):
    counts = []
    for user, project in small_and_large:
        client.force_login(user)
        client.get("/")
        task = project.tasks.filter(status="todo").last()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/projects/{project.pk}/tasks/{task.pk}/status/", {"status": "done"}, headers=HTMX)
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_dragging_the_first_task_to_the_end_costs_the_same_queries_at_any_size(client):
    counts = []
    for size in (3, 60):
        user = UserFactory()
        (project,) = build_portfolio(user, projects=1, tasks_per_project=size)
        client.force_login(user)
        client.get("/")
        first = project.tasks.order_by("position").first()
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                f"/projects/{project.pk}/tasks/{first.pk}/status/", {"status": "done", "end": "1"}, headers=HTMX
            )
        assert response.status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
