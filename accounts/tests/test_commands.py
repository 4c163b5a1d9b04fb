import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from chat.models import ChatHistory
from projects.models import Project, Task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_account_is_created_once_when_debug_is_on(settings, capsys):
    settings.DEBUG = True

    call_command("ensure_demo_user")
    call_command("ensure_demo_user")

    user = User.objects.get()
    assert user.email == "demo@example.com"
    assert user.check_password("demo-password")
    assert "demo@example.com / demo-password" in capsys.readouterr().out


def test_the_demo_account_is_never_created_when_debug_is_off(settings):
    settings.DEBUG = False

    call_command("ensure_demo_user")

    assert not User.objects.exists()
    assert not Project.objects.exists()


def test_create_api_token_for_an_unknown_email_fails_clearly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user with email 'nobody@example.com'"):
        call_command("create_api_token", "nobody@example.com")


@pytest.fixture
def demo(settings, monkeypatch):
    """The demo account as ``make run`` creates it, on its default host and port."""
    settings.DEBUG = True
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    call_command("ensure_demo_user")
    return User.objects.get(email="demo@example.com")


def test_the_demo_account_gets_one_sample_set_however_often_it_runs(demo):
    call_command("ensure_demo_user")

    projects = Project.objects.owned_by(demo)
    assert sorted(projects.values_list("name", flat=True)) == [
        "Launch the community bakery",
        "Spring garden club newsletter",
    ]
    assert Task.objects.count() == 11
    assert ChatHistory.objects.count() == 2


def test_the_sample_project_has_tasks_in_every_state_around_today(demo):
    bakery = Project.objects.get(name="Launch the community bakery")
    tasks = Task.objects.filter(project=bakery)
    today = timezone.localdate()

    assert bakery.status == Project.Status.ACTIVE
    assert set(tasks.values_list("status", flat=True)) == {"todo", "in-progress", "done"}
    assert tasks.overdue(today).count() == 2
    assert tasks.due_within(7, today).count() == 2
    assert tasks.filter(due_date__gt=today + datetime.timedelta(days=7)).exists()
    assert all(task.estimate_hours for task in tasks)
    assert all(task.completed_at for task in tasks.filter(status="done"))
    assert list(tasks.values_list("position", flat=True)) == list(range(8))


def test_the_sample_planning_chat_is_two_finished_exchanges_in_the_projects_chat(client, demo):
    bakery = Project.objects.get(name="Launch the community bakery")
    chats = ChatHistory.objects.order_by("created_at")

    assert [(chat.project_id, chat.chat_type, chat.status) for chat in chats] == [
        (bakery.pk, "project-planning", "complete")
    ] * 2
    client.force_login(demo)
    page = client.get(f"/projects/{bakery.pk}/chat/").content.decode()
    assert "We open in a month. What should we tackle first?" in page
    assert "<strong>Rent a convection oven for the first fortnight</strong>" in page


def test_every_dashboard_card_of_the_demo_account_has_something_to_show(client, demo):
    client.force_login(demo)
    response = client.get("/")
    page = response.content.decode()

    overdue = [task.title for task in response.context["overdue"]]
    due_soon = [task.title for task in response.context["due_soon"]]
    assert overdue == ["Get three quotes for deck ovens", "Draft the opening menu and prices"]
    assert due_soon == ["Hire two bakers", "Order flour, butter and packaging", "Collect members' garden photos"]
    assert [chat.message for chat in response.context["chats"]][0].startswith("Two oven suppliers")
    assert len(response.context["project_rows"]) == 2
    for empty in ("Nothing overdue", "No open tasks are due this week", "No chats yet", "No projects yet"):
        assert empty not in page
    assert "Get three quotes for deck ovens" in page
    assert "Launch the community bakery" in page


def test_an_existing_demo_account_gets_no_samples(settings):
    settings.DEBUG = True
    UserFactory(email="demo@example.com")

    call_command("ensure_demo_user")

    assert not Project.objects.exists()
    assert not ChatHistory.objects.exists()


def test_the_command_says_where_to_start(capsys, demo, monkeypatch):
    assert "Sign in at http://127.0.0.1:8000/" in capsys.readouterr().out

    monkeypatch.setenv("PORT", "9000")
    call_command("ensure_demo_user")

    out = capsys.readouterr().out
    assert "Sign in at http://127.0.0.1:9000/" in out
    assert "Created" not in out
