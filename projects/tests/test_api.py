import pytest

from accounts.models import ApiToken
from projects.models import Project, ProjectDraft, Task
from tests.factories import ProjectFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def api(client, user):
    """A client that sends the user's personal API token."""
    _, key = ApiToken.issue(user=user, name="tests")
    headers = {"Authorization": f"Bearer {key}"}

    class Api:
        def get(self, url, **params):
            return client.get(f"/api{url}", params, headers=headers)

        def send(self, method, url, body=None):
            return getattr(client, method)(f"/api{url}", body or {}, content_type="application/json", headers=headers)

    return Api()


def test_list_projects_with_progress(api, user):
    project = ProjectFactory(owner=user, name="Compiler")
    TaskFactory(project=project, status=Task.Status.DONE)
    TaskFactory(project=project)
    ProjectFactory(name="Not mine")
    body = api.get("/projects").json()
    assert body["success"] is True
    assert [p["name"] for p in body["data"]] == ["Compiler"]
    assert body["data"][0]["progress"] == {"done": 1, "total": 2, "percent": 50}


def test_list_projects_refuses_an_unknown_status(api):
    response = api.get("/projects", status="someday")
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_create_a_project_and_add_tasks(api, user):
    created = api.send("post", "/projects", {"name": "Rocket", "status": "active", "startDate": "2030-01-01"})
    assert created.status_code == 201
    project_id = created.json()["data"]["_id"]
    task = api.send("post", f"/projects/{project_id}/tasks", {"title": "Fuel", "dueDate": "2030-02-01"})
    assert task.status_code == 201
    assert task.json()["data"]["dueDate"] == "2030-02-01"
    detail = api.get(f"/projects/{project_id}").json()["data"]
    assert [t["title"] for t in detail["tasks"]] == ["Fuel"]
    assert Project.objects.get().owner == user


def test_bad_project_is_refused_with_the_same_rules_as_the_form(api):
    response = api.send("post", "/projects", {"name": "Rocket", "startDate": "2030-05-02", "dueDate": "2030-05-01"})
    assert response.status_code == 422  # well-formed by the schema, but the dates disagree
    assert "due_date: The due date cannot be before the start date." in response.json()["error"]
    assert api.send("post", "/projects", {"name": " "}).status_code == 400
    assert api.send("post", "/projects", {"name": "x", "status": "someday"}).status_code == 400
    assert not Project.objects.exists()


def test_patch_changes_only_the_fields_sent_and_archives(api, user):
    project = ProjectFactory(owner=user, name="Compiler", description="Keep me")
    response = api.send("patch", f"/projects/{project.pk}", {"status": "on-hold", "archived": True})
    data = response.json()["data"]
    assert (data["name"], data["description"], data["status"]) == ("Compiler", "Keep me", "on-hold")
    assert data["archivedAt"] is not None


def test_change_a_task_status_and_delete_it(api, user):
    task = TaskFactory(project=ProjectFactory(owner=user), title="Lexer")
    url = f"/projects/{task.project_id}/tasks/{task.pk}"
    data = api.send("patch", url, {"status": "done"}).json()["data"]
    assert (data["title"], data["status"]) == ("Lexer", "done")
    assert data["completedAt"] is not None
    assert api.send("patch", url, {"status": "someday"}).status_code == 400
    assert api.send("delete", url).json() == {"success": True}
    assert not Task.objects.exists()


def test_delete_a_project_says_how_many_tasks_went_with_it(api, user):
    project = ProjectFactory(owner=user)
    TaskFactory.create_batch(2, project=project)
    assert api.send("delete", f"/projects/{project.pk}").json() == {"success": True, "deletedTasks": 2}
    assert not Task.objects.exists()


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_project_answers_404(api, method):
    task = TaskFactory(title="Secret")
    if method == "get":
        response = api.get(f"/projects/{task.project_id}")
    else:
        response = api.send(method, f"/projects/{task.project_id}/tasks/{task.pk}", {"title": "Mine"})
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Not found."}
    assert Task.objects.get().title == "Secret"


def test_malformed_id_answers_404(api):
    assert api.get("/projects/not-an-id").status_code == 404


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/projects").status_code == 401


def test_estimated_hours_are_kept_to_one_decimal_place(api, user):
    project = ProjectFactory(owner=user)
    response = api.send("post", f"/projects/{project.pk}/tasks", {"title": "Plan", "estimatedHours": 1.25})
    assert response.status_code == 201
    assert response.json()["data"]["estimatedHours"] == 1.3
    assert str(Task.objects.get().estimate_hours) == "1.3"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Plan", "estimatedHours": -0.5}, "estimatedHours"),
        ({"title": "Plan", "estimatedHours": 10000.1}, "estimatedHours"),
        ({"title": "Plan", "estimatedHours": "3"}, "estimatedHours"),
        ({"title": "Plan", "estimatedHours": True}, "estimatedHours"),
        ({"title": "Plan", "dueDate": 0}, "dueDate"),
        ({"title": "Plan", "dueDate": "2030-02-30"}, "dueDate"),
        ({"title": "Plan", "dueDate": "2030-01-01T00:00:00"}, "dueDate"),
        ({"title": "Plan", "status": None}, "status"),
        ({"title": "Plan", "priority": "someday"}, "priority"),
        ({"title": " "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Plan", "description": "x" * 5001}, "description"),
        ({"title": "Pl\x00an"}, "title"),
        ({}, "title"),
    ],
)
def test_a_task_the_schema_refuses_answers_400_naming_the_field(api, user, body, field):
    project = ProjectFactory(owner=user)
    response = api.send("post", f"/projects/{project.pk}/tasks", body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"].startswith(f"Invalid request. {field}")
    assert not Task.objects.exists()


def test_a_change_may_clear_a_date_but_not_the_name(api, user):
    project = ProjectFactory(owner=user, due_date="2030-01-01")
    cleared = api.send("patch", f"/projects/{project.pk}", {"dueDate": None, "description": None})
    assert cleared.status_code == 200
    assert cleared.json()["data"]["dueDate"] is None
    assert api.send("patch", f"/projects/{project.pk}", {"name": None}).status_code == 400
    assert api.send("patch", f"/projects/{project.pk}", {"archived": "yes"}).status_code == 400


def test_a_due_date_before_the_stored_start_answers_422(api, user):
    project = ProjectFactory(owner=user, start_date="2030-05-02")
    response = api.send("patch", f"/projects/{project.pk}", {"dueDate": "2030-05-01"})
    assert response.status_code == 422
    assert response.json() == {
        "success": False,
        "error": "Invalid request. due_date: The due date cannot be before the start date.",
    }


def test_list_filter_outside_the_schema_answers_400(api):
    assert api.get("/projects", q="x" * 201).status_code == 400
    assert api.get("/projects", q="a\x00").status_code == 400
    assert api.get("/projects", status="archived").status_code == 200


@pytest.mark.parametrize(
    ("method", "where", "body", "field"),
    [
        ("post", "/projects", {"name": "x" * 245}, "name"),
        ("patch", "/projects/{project}", {"name": "x" * 245}, "name"),
        ("post", "/projects/{project}/tasks", {"title": "x" * 245}, "title"),
        ("patch", "/projects/{project}/tasks/{task}", {"title": "x" * 245}, "title"),
        ("put", "/projects/drafts/{draft}", {"name": "x" * 245}, "name"),
        ("put", "/projects/drafts/{draft}", {"tasks": [{"title": "x" * 245}]}, "tasks.0.title"),
    ],
)
def test_an_overlong_name_or_title_answers_one_problem(api, user, method, where, body, field):
    task = TaskFactory(project=ProjectFactory(owner=user, name="Compiler"), title="Lexer")
    draft = ProjectDraft.objects.create(owner=user)
    response = api.send(method, where.format(project=task.project_id, task=task.pk, draft=draft.pk), body)
    assert response.status_code == 400
    problems = response.json()["error"].removeprefix("Invalid request. ").split("; ")
    assert problems == [f"{field}: String should have at most 200 characters"]
    assert "Give the" not in response.json()["error"]
    task.refresh_from_db()
    assert (task.project.name, task.title) == ("Compiler", "Lexer")
