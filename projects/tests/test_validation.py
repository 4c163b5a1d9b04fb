"""Bad input gets inline errors, a 4xx status and leaves nothing half-saved."""

import re

import pytest

from projects.drafts import DraftInvalid, draft_clean
from projects.models import Project, ProjectDraft, Task
from tests.factories import HTMX, TaskFactory

pytestmark = pytest.mark.django_db


VALID_PROJECT = {"name": "Rocket", "status": "planning", "priority": "medium"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": "   "}, "name", "Give the project a name."),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"description": "x" * 5001}, "description", "at most 5000 characters"),
        ({"start_date": "2030-05-02", "due_date": "2030-05-01"}, "due_date", "cannot be before the start date"),
        ({"status": "someday"}, "status", "Select a valid choice"),
        ({"priority": "whenever"}, "priority", "Select a valid choice"),
        ({"start_date": "not a date"}, "start_date", "Enter a valid date"),
    ],
)
def test_bad_project_input_shows_inline_errors_and_saves_nothing(client, user, change, field, message):
    response = client.post("/projects/new/blank/", {**VALID_PROJECT, **change}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in body
    assert 'id="project-form"' in body
    assert f'id="id_{field}_error"' in body
    assert message in body
    assert body.count(message) == 1
    assert not Project.objects.exists()


def test_bad_project_input_without_javascript_shows_the_whole_page(client, user):
    response = client.post("/projects/new/blank/", {**VALID_PROJECT, "name": ""})
    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert "Give the project a name." in response.content.decode()


def test_bad_project_edit_keeps_the_stored_project(client, project):
    response = client.post(
        f"/projects/{project.pk}/edit/",
        {**VALID_PROJECT, "name": "New name", "start_date": "2030-05-02", "due_date": "2030-05-01"},
        headers=HTMX,
    )
    assert response.status_code == 422
    project.refresh_from_db()
    assert (project.name, project.due_date) == ("Compiler", None)


def test_rejected_rename_leaves_the_page_naming_the_stored_project(client, project):
    response = client.post(f"/projects/{project.pk}/edit/", {**VALID_PROJECT, "name": "x" * 201})
    page_head = response.content.decode().split('id="project-form"')[0]
    assert response.status_code == 422
    assert "Compiler" in page_head
    assert "x" * 201 not in page_head


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"new-title": "  "}, "title", "Give the task a title."),
        ({"new-title": "x" * 201}, "title", "at most 200 characters"),
        ({"new-priority": "whenever"}, "priority", "Select a valid choice"),
        ({"new-due_date": "31/31/2030"}, "due_date", "Enter a valid date"),
    ],
)
def test_bad_new_task_shows_inline_errors_and_saves_nothing(client, project, change, field, message):
    response = client.post(
        f"/projects/{project.pk}/tasks/new/", {"new-title": "Fine", "new-priority": "low", **change}, headers=HTMX
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "<html" not in body
    assert response["HX-Retarget"] == "#task-add-form"
    assert f'id="id_new-{field}_error"' in body
    assert body.count(message) == 1
    assert not Task.objects.exists()


def test_bad_new_task_without_javascript_shows_the_page_with_the_error(client, project):
    response = client.post(f"/projects/{project.pk}/tasks/new/", {"new-title": ""})
    assert response.status_code == 422
    assert "Give the task a title." in response.content.decode()
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "Give the task a title."),
        ({"description": "x" * 5001}, "at most 5000 characters"),
        ({"status": "someday"}, "Select a valid choice"),
        ({"estimate_hours": "-3"}, "greater than or equal to 0"),
    ],
)
def test_bad_task_edit_shows_inline_errors_and_keeps_the_task(client, project, change, message):
    task = TaskFactory(project=project, title="Lexer")
    prefix = f"task-{task.pk}-"
    data = {prefix + "title": "Parser", prefix + "status": "done", prefix + "priority": "low"}
    data.update({prefix + key: value for key, value in change.items()})
    response = client.post(f"/projects/{project.pk}/tasks/{task.pk}/edit/", data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#task-{task.pk}"
    assert "<html" not in body
    assert message in body
    task.refresh_from_db()
    assert (task.title, task.status, task.priority) == ("Lexer", "todo", "medium")


@pytest.mark.parametrize("data", [{"status": "someday"}, {}, {"status": "done", "before": "x" * 65}])
def test_unknown_status_is_refused_with_an_inline_error(client, project, data):
    task = TaskFactory(project=project)
    response = client.post(f"/projects/{project.pk}/tasks/{task.pk}/status/", data, headers=HTMX)
    assert response.status_code == 422
    assert "Choose a status" in response.content.decode()
    assert "<html" not in response.content.decode()
    task.refresh_from_db()
    assert task.status == "todo"


def test_unknown_move_direction_is_refused(client, project):
    task = TaskFactory(project=project)
    response = client.post(f"/projects/{project.pk}/tasks/{task.pk}/move/", {"direction": "sideways"}, headers=HTMX)
    assert response.status_code == 422


def test_unknown_task_view_is_refused_and_not_remembered(client, project):
    response = client.post(f"/projects/{project.pk}/tasks/view/", {"view": "gantt"}, headers=HTMX)
    assert response.status_code == 422
    assert client.get(f"/projects/{project.pk}/").context["task_view"] == "board"


# --- One clear error per field ---

TOO_LONG_NAME = "Keep the name to at most 200 characters (this one has 245)."
TOO_LONG_TITLE = "Keep the title to at most 200 characters (this one has 245)."


def shown_errors(body: str, field_id: str) -> list[str]:
    """The messages shown under the field whose input has ``field_id``."""
    found = re.search(rf'id="{re.escape(field_id)}_error">(.*?)</div>', body, re.DOTALL)
    assert found, f"no errors shown for {field_id}"
    return re.findall(r"<li>(.*?)</li>", found.group(1))


def test_an_overlong_project_name_is_told_once(client, user):
    response = client.post("/projects/new/blank/", {**VALID_PROJECT, "name": "x" * 245}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert shown_errors(body, "id_name") == [TOO_LONG_NAME]
    assert "Give the project a name." not in body


def test_an_overlong_name_does_not_hide_the_other_fields_errors(client, user):
    data = {**VALID_PROJECT, "name": "x" * 245, "start_date": "2030-05-02", "due_date": "2030-05-01"}
    body = client.post("/projects/new/blank/", data, headers=HTMX).content.decode()
    assert shown_errors(body, "id_name") == [TOO_LONG_NAME]
    assert shown_errors(body, "id_due_date") == ["The due date cannot be before the start date."]


def test_an_overlong_new_task_title_is_told_once(client, project):
    response = client.post(f"/projects/{project.pk}/tasks/new/", {"new-title": "x" * 245}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert shown_errors(body, "id_new-title") == [TOO_LONG_TITLE]
    assert "Give the task a title." not in body


def test_an_overlong_edited_task_title_is_told_once(client, project):
    task = TaskFactory(project=project, title="Lexer")
    prefix = f"task-{task.pk}-"
    data = {prefix + "title": "x" * 245, prefix + "status": "todo", prefix + "priority": "low"}
    body = client.post(f"/projects/{project.pk}/tasks/{task.pk}/edit/", data, headers=HTMX).content.decode()
    assert shown_errors(body, f"id_{prefix}title") == [TOO_LONG_TITLE]
    assert "Give the task a title." not in body


def test_an_overlong_draft_name_and_task_title_are_told_once_each(client, user):
    draft = ProjectDraft.objects.create(owner=user)
    data = {
        "draft-name": "x" * 245,
        "draft-priority": "medium",
        "tasks-TOTAL_FORMS": 1,
        "tasks-INITIAL_FORMS": 1,
        "tasks-0-title": "y" * 245,
        "tasks-0-priority": "medium",
    }
    response = client.post(f"/projects/drafts/{draft.pk}/", data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 422
    assert shown_errors(body, "id_draft-name") == [TOO_LONG_NAME]
    assert shown_errors(body, "id_tasks-0-title") == [TOO_LONG_TITLE]
    assert "Give the" not in body


def test_a_plan_with_overlong_names_has_one_problem_for_each():
    with pytest.raises(DraftInvalid) as refused:
        draft_clean({"name": "x" * 245, "tasks": [{"title": "y" * 245}]})
    assert refused.value.problems == [f"Name: {TOO_LONG_NAME}", f"Task 1, title: {TOO_LONG_TITLE}"]
