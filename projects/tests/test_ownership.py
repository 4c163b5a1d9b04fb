"""A user reaches only their own projects and tasks: anyone else's answer 404."""

import pytest
from django.urls import reverse

from projects.models import Project, Task
from tests.factories import HTMX, ProjectFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def intruder(user):
    """Someone signed in who owns none of what the tests reach for."""
    return user


@pytest.fixture
def victims_task():
    return TaskFactory(title="Secret plan", project=ProjectFactory(name="Secret project"))


@pytest.mark.parametrize("name", ["detail", "edit", "delete", "tasks"])
def test_other_users_project_pages_answer_404(client, intruder, victims_task, name):
    response = client.get(reverse(f"projects:{name}", args=[victims_task.project_id]), headers=HTMX)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [("edit", {"name": "Mine now"}), ("archive", {}), ("delete", {}), ("task-create", {"new-title": "Sneaky"})],
)
def test_forged_posts_to_another_users_project_answer_404_and_change_nothing(
    client, intruder, victims_task, name, data
):
    response = client.post(reverse(f"projects:{name}", args=[victims_task.project_id]), data, headers=HTMX)
    assert response.status_code == 404
    project = Project.objects.get()
    assert (project.name, project.archived_at) == ("Secret project", None)
    assert list(Task.objects.values_list("title", flat=True)) == ["Secret plan"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("task-edit", {}),
        ("task-status", {"status": "done"}),
        ("task-move", {"direction": "down"}),
        ("task-delete", {}),
    ],
)
def test_forged_htmx_posts_to_another_users_task_answer_404(client, intruder, victims_task, name, data):
    url = reverse(f"projects:{name}", kwargs={"pk": victims_task.project_id, "task_pk": victims_task.pk})
    response = client.post(url, data, headers=HTMX)
    assert response.status_code == 404
    victims_task.refresh_from_db()
    assert (victims_task.title, victims_task.status) == ("Secret plan", "todo")


def test_another_users_task_under_my_own_project_answers_404(client, intruder, victims_task):
    mine = ProjectFactory(owner=intruder)
    url = reverse("projects:task-status", kwargs={"pk": mine.pk, "task_pk": victims_task.pk})
    assert client.post(url, {"status": "done"}, headers=HTMX).status_code == 404
    victims_task.refresh_from_db()
    assert victims_task.status == "todo"


def test_dropping_before_another_users_task_answers_404(client, intruder, victims_task):
    mine = TaskFactory(project=ProjectFactory(owner=intruder))
    url = reverse("projects:task-status", kwargs={"pk": mine.project_id, "task_pk": mine.pk})
    assert client.post(url, {"status": "done", "before": victims_task.pk}, headers=HTMX).status_code == 404


def test_other_users_projects_are_not_listed_or_counted(client, intruder, victims_task):
    assert "Secret project" not in client.get("/projects/").content.decode()
    assert "Secret" not in client.get("/").content.decode()


@pytest.mark.parametrize("pk", ["abc", "0", "-1", "99999999999999999999999999", "507f1f77bcf86cd799439011"])
def test_malformed_or_unknown_ids_answer_404_not_500(client, intruder, pk):
    assert client.get(f"/projects/{pk}/").status_code == 404
    mine = ProjectFactory(owner=intruder)
    assert client.post(f"/projects/{mine.pk}/tasks/{pk}/status/", {"status": "done"}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(victims_task, client):
    response = client.get(f"/projects/{victims_task.project_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_state_changes_need_a_csrf_token(victims_task):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(victims_task.project.owner)
    url = reverse("projects:task-status", kwargs={"pk": victims_task.project_id, "task_pk": victims_task.pk})
    assert client.post(url, {"status": "done"}, headers=HTMX).status_code == 403
    victims_task.refresh_from_db()
    assert victims_task.status == "todo"
