import datetime
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.models import ChatHistory
from projects.models import Project, Task
from tests.factories import HTMX, ChatHistoryFactory, ProjectFactory, TaskFactory

pytestmark = pytest.mark.django_db


def toast(response) -> dict:
    return json.loads(response["HX-Trigger"])["toast"]


def announced(response) -> str:
    """What a change says to screen readers, swapped into base.html's live region; it shows in place, so no toast."""
    assert "HX-Trigger" not in response
    found = re.search(r'<div id="announcement" hx-swap-oob="innerHTML">(.*?)</div>', response.content.decode())
    return found.group(1) if found else ""


def highlighted(response) -> list[str]:
    return re.findall(r'id="task-(\w+)" class="[^"]*\btask--changed\b', response.content.decode())


def task_url(name, task, **kwargs):
    return reverse(f"projects:{name}", kwargs={"pk": task.project_id, "task_pk": task.pk, **kwargs})


# --- Dashboard ---


def test_dashboard_tells_a_new_user_what_to_do_first(client, user):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "No projects yet" in body
    assert reverse("projects:create") in body
    assert reverse("chat:planning") in body
    assert "No chats yet" in body


def test_dashboard_answers_at_its_second_address(client, user):
    assert client.get("/dashboard/").status_code == 200


def test_dashboard_counts_projects_by_status_and_leaves_archived_ones_out(client, user):
    ProjectFactory.create_batch(2, owner=user, status=Project.Status.ACTIVE)
    ProjectFactory(owner=user, status=Project.Status.ON_HOLD)
    ProjectFactory(owner=user, status=Project.Status.ACTIVE, archived_at=timezone.now())
    response = client.get("/")
    counts = {value: count for value, _, count in response.context["status_counts"]}
    assert counts == {"planning": 0, "active": 2, "on-hold": 1, "completed": 0}
    assert response.context["archived_count"] == 1


def test_dashboard_lists_due_and_overdue_tasks_linking_to_their_project(client, user, project):
    today = timezone.localdate()
    TaskFactory(project=project, title="Fix the parser", due_date=today - datetime.timedelta(days=2))
    TaskFactory(project=project, title="Write the manual", due_date=today + datetime.timedelta(days=3))
    TaskFactory(project=project, title="Done already", due_date=today, status=Task.Status.DONE)
    TaskFactory(project=project, title="Next month", due_date=today + datetime.timedelta(days=30))
    response = client.get("/")
    body = response.content.decode()
    assert [t.title for t in response.context["overdue"]] == ["Fix the parser"]
    assert [t.title for t in response.context["due_soon"]] == ["Write the manual"]
    assert f'href="/projects/{project.pk}/#task-' in body
    assert "Done already" not in body and "Next month" not in body


def test_dashboard_shows_progress_per_project(client, user, project):
    TaskFactory(project=project, status=Task.Status.DONE)
    TaskFactory(project=project)
    response = client.get("/")
    assert 'aria-valuenow="50"' in response.content.decode()


def test_dashboard_shows_the_five_most_recent_chats(client, user, project):
    now = timezone.now()
    for n in range(7):
        ChatHistoryFactory(user=user, message=f"Question number {n}", created_at=now - datetime.timedelta(minutes=n))
    ChatHistoryFactory(user=user, message="About the compiler", project=project, created_at=now)
    ChatHistoryFactory(message="Someone else's question")
    response = client.get("/")
    chats = response.context["chats"]
    assert len(chats) == 5
    assert chats[0].created_at >= chats[-1].created_at
    body = response.content.decode()
    assert "Someone else" not in body
    assert f"/projects/{project.pk}/chat/" in body
    assert ChatHistory.objects.count() == 9


# --- Project list ---


@pytest.mark.parametrize(
    ("zone", "shown"), [("UTC", "2030-01-15 06:24 UTC"), ("Europe/Berlin", "2030-01-15 07:24 CET")]
)
def test_dashboard_chat_times_name_their_time_zone(client, user, project, settings, zone, shown):
    settings.TIME_ZONE = zone
    sent = datetime.datetime(2030, 1, 15, 6, 24, tzinfo=datetime.UTC)
    ChatHistoryFactory(user=user, project=project, message="When do we start?", created_at=sent)

    page = client.get("/").content.decode()

    local = sent.astimezone(timezone.get_current_timezone())
    assert f'<time datetime="{local.isoformat()}" title="{shown}">' in page


def test_project_list_filters_by_status_and_searches_by_name(client, user):
    ProjectFactory(owner=user, name="Garden shed", status=Project.Status.ACTIVE)
    ProjectFactory(owner=user, name="Garden pond", status=Project.Status.PLANNING)
    ProjectFactory(owner=user, name="Taxes", status=Project.Status.ACTIVE)
    response = client.get("/projects/", {"q": "garden", "status": "active"})
    assert [p.name for p, _ in response.context["project_rows"]] == ["Garden shed"]


def test_project_list_hides_archived_projects_unless_asked(client, user):
    ProjectFactory(owner=user, name="Old one", archived_at=timezone.now())
    ProjectFactory(owner=user, name="Current one")
    assert [p.name for p, _ in client.get("/projects/").context["project_rows"]] == ["Current one"]
    archived = client.get("/projects/", {"status": "archived"})
    assert [p.name for p, _ in archived.context["project_rows"]] == ["Old one"]


def test_project_list_search_answers_htmx_with_the_results_only(client, user):
    ProjectFactory(owner=user, name="Garden shed")
    response = client.get("/projects/", {"q": "nothing like it"}, headers=HTMX)
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="project-results"' in body
    assert "No projects match" in body


def test_project_list_restored_from_history_is_the_whole_page(client, user):
    response = client.get("/projects/", headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in response.content.decode()


def test_pages_htmx_asks_part_of_vary_on_hx_request(client, project):
    task = TaskFactory(project=project)
    urls = ["/projects/", f"/projects/{project.pk}/tasks/", task_url("task-edit", task), task_url("task-delete", task)]
    for url in urls:
        for headers in ({}, HTMX):
            assert "HX-Request" in client.get(url, headers=headers)["Vary"], (url, headers)


def test_project_list_with_an_unknown_status_says_so_and_shows_current_projects(client, user):
    ProjectFactory(owner=user, name="Garden shed")
    response = client.get("/projects/", {"status": "someday"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in body
    assert "Garden shed" in body


# --- Project create, edit, archive, delete ---


def test_create_a_blank_project_and_land_on_its_page(client, user):
    response = client.post(
        "/projects/new/blank/",
        {"name": "  Rocket  ", "description": "To the moon", "status": "active", "priority": "high"},
    )
    project = Project.objects.get()
    assert project.name == "Rocket"
    assert project.owner == user
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"


def test_create_with_htmx_redirects_the_client(client, user):
    response = client.post(
        "/projects/new/blank/", {"name": "Rocket", "status": "planning", "priority": "low"}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == Project.objects.get().get_absolute_url()


def test_edit_a_project(client, project):
    response = client.post(
        f"/projects/{project.pk}/edit/",
        {"name": "Compiler v2", "status": "on-hold", "priority": "urgent", "start_date": "2030-01-01"},
    )
    project.refresh_from_db()
    assert response.status_code == 302
    assert (project.name, project.status, project.priority) == ("Compiler v2", "on-hold", "urgent")
    assert project.start_date == datetime.date(2030, 1, 1)


def test_edit_form_shows_the_current_values(client, project):
    response = client.get(f"/projects/{project.pk}/edit/")
    assert 'value="Compiler"' in response.content.decode()


def test_archive_then_restore_a_project(client, project):
    response = client.post(f"/projects/{project.pk}/archive/")
    assert response["Location"] == "/projects/"
    project.refresh_from_db()
    assert project.is_archived
    client.post(f"/projects/{project.pk}/archive/")
    project.refresh_from_db()
    assert not project.is_archived


def test_delete_asks_first_and_says_how_many_tasks_go_with_it(client, project):
    TaskFactory.create_batch(3, project=project)
    response = client.get(f"/projects/{project.pk}/delete/")
    assert "3 tasks" in response.content.decode()
    assert Project.objects.exists()


def test_delete_removes_the_project_and_its_tasks(client, project):
    TaskFactory.create_batch(3, project=project)
    response = client.post(f"/projects/{project.pk}/delete/")
    assert response["Location"] == "/projects/"
    assert not Project.objects.exists()
    assert not Task.objects.exists()


def test_delete_warns_about_and_removes_the_projects_chat_only(client, project):
    ChatHistoryFactory.create_batch(2, user=project.owner, project=project)
    general = ChatHistoryFactory(user=project.owner)

    assert (
        "planning chat (<strong>2 messages</strong>)" in client.get(f"/projects/{project.pk}/delete/").content.decode()
    )
    client.post(f"/projects/{project.pk}/delete/")

    assert list(ChatHistory.objects.all()) == [general]


def test_archive_and_delete_refuse_get(client, project):
    assert client.get(f"/projects/{project.pk}/archive/").status_code == 405
    client.get(f"/projects/{project.pk}/delete/")
    assert Project.objects.exists()


# --- Project page ---


def test_project_page_shows_details_progress_and_tasks(client, project):
    project.description = "A compiler for COBOL"
    project.start_date = datetime.date(2030, 1, 1)
    project.save()
    TaskFactory(project=project, title="Lexer", status=Task.Status.DONE)
    TaskFactory(project=project, title="Parser")
    body = client.get(f"/projects/{project.pk}/").content.decode()
    for text in ("Compiler", "A compiler for COBOL", "Jan 1, 2030", "Planning", "Medium", "Lexer", "Parser", "50%"):
        assert text in body


def test_project_page_dates_name_the_time_zone_of_their_moment(client, project, settings):
    settings.TIME_ZONE = "America/New_York"
    # Just after midnight in UTC is still the day before in New York.
    Project.objects.filter(pk=project.pk).update(
        created_at=datetime.datetime(2030, 1, 15, 2, 30, tzinfo=datetime.UTC),
        archived_at=datetime.datetime(2030, 2, 1, 3, 0, tzinfo=datetime.UTC),
    )

    page = client.get(f"/projects/{project.pk}/").content.decode()

    assert 'title="2030-01-14 21:30 EST">Jan 14, 2030</time>' in page
    archived = '<time datetime="2030-01-31T22:00:00-05:00" title="2030-01-31 22:00 EST">Jan 31, 2030</time>'
    assert f"archived on {archived}" in page


def test_project_without_tasks_says_no_tasks_yet(client, project):
    body = client.get(f"/projects/{project.pk}/").content.decode()
    assert "No tasks yet" in body


def test_overdue_tasks_are_marked(client, project):
    TaskFactory(project=project, title="Late", due_date=timezone.localdate() - datetime.timedelta(days=1))
    body = client.get(f"/projects/{project.pk}/").content.decode()
    assert "task--overdue" in body
    assert "Overdue ·" in body


def test_board_is_the_default_and_the_list_choice_is_remembered(client, project):
    TaskFactory(project=project)
    assert client.get(f"/projects/{project.pk}/").context["task_view"] == "board"
    response = client.post(f"/projects/{project.pk}/tasks/view/", {"view": "list"}, headers=HTMX)
    assert "<html" not in response.content.decode()
    assert 'class="task-list"' in response.content.decode()
    other = ProjectFactory(owner=project.owner)
    assert client.get(f"/projects/{other.pk}/").context["task_view"] == "list"


# --- Tasks with HTMX ---


def test_add_a_task_inline(client, project):
    TaskFactory(project=project, position=4)
    response = client.post(
        f"/projects/{project.pk}/tasks/new/",
        {"new-title": "Write tests", "new-priority": "high", "new-due_date": "2030-02-03"},
        headers=HTMX,
    )
    body = response.content.decode()
    task = project.tasks.get(title="Write tests")
    assert response.status_code == 200
    assert "<html" not in body
    assert f'id="task-{task.pk}"' in body
    assert 'id="project-progress" class="project-progress" hx-swap-oob="true"' in body
    assert response["HX-Retarget"] == "#task-region"
    assert announced(response) == "Added “Write tests”."
    assert highlighted(response) == [str(task.pk)]
    assert (task.priority, task.due_date, task.position) == ("high", datetime.date(2030, 2, 3), 5)


def test_add_a_task_without_javascript_redirects_back(client, project):
    response = client.post(f"/projects/{project.pk}/tasks/new/", {"new-title": "Write tests", "new-priority": "low"})
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/#tasks"
    assert project.tasks.count() == 1


def test_edit_a_task_in_place(client, project):
    task = TaskFactory(project=project, title="Old")
    form = client.get(task_url("task-edit", task), headers=HTMX)
    assert f'name="task-{task.pk}-title"' in form.content.decode()
    assert form["HX-Retarget"] == f"#task-{task.pk}"
    assert "<html" not in form.content.decode()
    prefix = f"task-{task.pk}-"
    response = client.post(
        task_url("task-edit", task),
        {
            prefix + "title": "New",
            prefix + "status": "in-progress",
            prefix + "priority": "urgent",
            prefix + "due_date": "2030-03-04",
            prefix + "estimate_hours": "2.5",
        },
        headers=HTMX,
    )
    task.refresh_from_db()
    assert response.status_code == 200
    assert (task.title, task.status, task.priority) == ("New", "in-progress", "urgent")
    assert task.due_date == datetime.date(2030, 3, 4)
    assert announced(response) == "Saved “New”."
    assert highlighted(response) == [str(task.pk)]
    assert "hx-swap-oob" in response.content.decode()


def test_edit_without_javascript_shows_the_form_in_the_page(client, project):
    task = TaskFactory(project=project)
    response = client.get(task_url("task-edit", task))
    body = response.content.decode()
    assert "<html" in body
    assert f'name="task-{task.pk}-title"' in body


def test_change_status_in_one_click_updates_progress(client, project):
    task = TaskFactory(project=project, title="Lexer")
    TaskFactory(project=project)
    response = client.post(task_url("task-status", task), {"status": "done"}, headers=HTMX)
    task.refresh_from_db()
    assert task.is_done
    assert announced(response) == "Marked “Lexer” as done."
    assert highlighted(response) == [str(task.pk)]
    assert 'aria-valuenow="50"' in response.content.decode()


def test_drop_a_task_into_another_column_above_a_card(client, project):
    a = TaskFactory(project=project, title="A")
    b = TaskFactory(project=project, title="B", status=Task.Status.IN_PROGRESS)
    response = client.post(task_url("task-status", a), {"status": "in-progress", "before": b.pk}, headers=HTMX)
    assert response.status_code == 200
    assert list(project.tasks.values_list("title", "status")) == [("A", "in-progress"), ("B", "in-progress")]
    assert announced(response) == "Moved “A” to In progress."
    assert highlighted(response) == [str(a.pk)]


def test_drop_a_task_at_the_end_of_a_column(client, project):
    a = TaskFactory(project=project, title="A")
    TaskFactory(project=project, title="B")
    client.post(task_url("task-status", a), {"status": "todo", "end": "on"}, headers=HTMX)
    assert list(project.tasks.values_list("title", flat=True)) == ["B", "A"]


def test_move_a_task_up_and_down(client, project):
    TaskFactory(project=project, title="A")
    b = TaskFactory(project=project, title="B")
    response = client.post(task_url("task-move", b), {"direction": "up"}, headers=HTMX)
    assert list(project.tasks.values_list("title", flat=True)) == ["B", "A"]
    assert announced(response) == "Moved “B” up."
    assert highlighted(response) == [str(b.pk)]
    # Nothing to see when nothing moved: a toast says why.
    response = client.post(task_url("task-move", b), {"direction": "up"}, headers=HTMX)
    assert toast(response) == {"message": "“B” is already at the top.", "level": "warning"}
    assert "announcement" not in response.content.decode()
    assert highlighted(response) == []


def test_move_without_javascript_redirects_back(client, project):
    TaskFactory(project=project, title="A")
    b = TaskFactory(project=project, title="B")
    response = client.post(task_url("task-move", b), {"direction": "up"})
    assert response.status_code == 302
    assert list(project.tasks.values_list("title", flat=True)) == ["B", "A"]
    # A page reload is out of sight of the change: the message comes with the page.
    assert "Moved “B” up." in client.get(response["Location"]).content.decode()


def test_delete_a_task_after_confirming_in_place(client, project):
    task = TaskFactory(project=project, title="Obsolete")
    confirm = client.get(task_url("task-delete", task), headers=HTMX)
    assert "Delete “<strong>Obsolete</strong>”?" in confirm.content.decode()
    assert project.tasks.exists()
    response = client.post(task_url("task-delete", task), headers=HTMX)
    assert not project.tasks.exists()
    assert announced(response) == "Deleted “Obsolete”."
    assert highlighted(response) == []
    assert "No tasks yet" in response.content.decode()


def test_delete_confirmation_without_javascript_is_part_of_the_page(client, project):
    task = TaskFactory(project=project, title="Obsolete")
    body = client.get(task_url("task-delete", task)).content.decode()
    assert "<html" in body
    assert "This cannot be undone" in body


def test_cancel_an_edit_brings_back_the_task_region(client, project):
    TaskFactory(project=project, title="Keep me")
    response = client.get(f"/projects/{project.pk}/tasks/", headers=HTMX)
    assert 'id="task-region"' in response.content.decode()
    assert client.get(f"/projects/{project.pk}/tasks/").status_code == 302


def test_task_changes_refuse_get(client, project):
    task = TaskFactory(project=project)
    for name in ("task-status", "task-move"):
        assert client.get(task_url(name, task)).status_code == 405
    assert client.get(f"/projects/{project.pk}/tasks/new/").status_code == 405


def test_changing_a_task_marks_the_project_as_recently_updated(client, project):
    task = TaskFactory(project=project)
    before = Project.objects.get().updated_at
    client.post(task_url("task-status", task), {"status": "done"}, headers=HTMX)
    assert Project.objects.get().updated_at > before


def test_other_task_changes_keep_what_is_being_typed_in_the_add_form(client, project):
    task = TaskFactory(project=project)
    response = client.post(task_url("task-status", task), {"status": "done"}, headers=HTMX)
    title_input = re.search(r'<input[^>]*name="new-title"[^>]*>', response.content.decode()).group()
    assert 'hx-preserve="true"' in title_input


def test_adding_a_task_brings_an_empty_add_form(client, project):
    response = client.post(
        f"/projects/{project.pk}/tasks/new/", {"new-title": "Next", "new-priority": "low"}, headers=HTMX
    )
    body = response.content.decode()
    assert 'name="new-title"' in body
    assert "hx-preserve" not in body


def test_choosing_the_status_a_task_already_has_changes_nothing(client, project):
    task = TaskFactory(project=project, title="Lexer")
    response = client.post(task_url("task-status", task), {"status": "todo"}, headers=HTMX)
    assert toast(response) == {"message": "“Lexer” is already To do.", "level": "warning"}


def test_an_overdue_project_is_marked_on_the_list_and_its_page(client, project):
    project.due_date = timezone.localdate() - datetime.timedelta(days=3)
    project.save()

    assert "Overdue" in client.get("/projects/").content.decode()
    assert "Overdue" in client.get(f"/projects/{project.pk}/").content.decode()

    project.status = Project.Status.COMPLETED
    project.save()
    assert "Overdue" not in client.get("/projects/").content.decode()
