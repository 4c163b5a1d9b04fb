import pytest

from accounts.models import ApiToken
from tests.factories import ChatHistoryFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/?q=example",
        "/admin/accounts/apitoken/",
        "/admin/projects/project/?status__exact=planning&q=Project",
        "/admin/projects/task/?status__exact=todo",
        "/admin/chat/chathistory/?chat_type__exact=project-planning&q=Question",
    ],
)
def test_staff_can_list_search_and_filter_every_model(staff_client, path):
    task = TaskFactory()
    ChatHistoryFactory(user=task.project.owner, project=task.project)
    ApiToken.issue(user=task.project.owner, name="script")

    response = staff_client.get(path)

    assert response.status_code == 200


def test_the_project_admin_shows_its_tasks_inline(staff_client):
    task = TaskFactory(title="Write the brief")

    response = staff_client.get(f"/admin/projects/project/{task.project.pk}/change/")

    assert "Write the brief" in response.content.decode()


def test_staff_read_a_chat_history_in_full(staff_client):
    chat = ChatHistoryFactory(message="How do I plan a launch?", response="Start with the date.")

    response = staff_client.get(f"/admin/chat/chathistory/{chat.pk}/change/")

    assert "How do I plan a launch?" in response.content.decode()
    assert "Start with the date." in response.content.decode()


def test_people_who_are_not_staff_cannot_enter_admin(client):
    client.force_login(UserFactory())

    assert client.get("/admin/").status_code == 302
