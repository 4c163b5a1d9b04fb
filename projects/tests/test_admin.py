import pytest

from tests.factories import ProjectFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_project_admin_shows_its_tasks_inline(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    project = ProjectFactory(name="Compiler")
    TaskFactory(project=project, title="Write the lexer")
    response = client.get(f"/admin/projects/project/{project.pk}/change/")
    assert response.status_code == 200
    assert 'value="Write the lexer"' in response.content.decode()


def test_task_admin_lists_tasks(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    TaskFactory(title="Write the lexer")
    response = client.get("/admin/projects/task/")
    assert "Write the lexer" in response.content.decode()
