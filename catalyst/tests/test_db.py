import pytest

from catalyst.db import _compensating, all_or_nothing
from projects.models import Project, Task
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def write_project_then_fail(owner, wrapper):
    with pytest.raises(Boom), wrapper():
        project = Project.objects.create(owner=owner, name="Half")
        Task.objects.create(project=project, title="First")
        raise Boom


def test_all_or_nothing_keeps_nothing_when_the_block_fails():
    write_project_then_fail(UserFactory(), all_or_nothing)

    assert not Project.objects.exists()
    assert not Task.objects.exists()


def test_all_or_nothing_keeps_everything_when_the_block_succeeds():
    owner = UserFactory()
    with all_or_nothing():
        project = Project.objects.create(owner=owner, name="Whole")
        Task.objects.create(project=project, title="First")

    assert Task.objects.filter(project__name="Whole").count() == 1


def test_compensation_for_servers_without_transactions_deletes_what_the_block_created():
    # The path a standalone MongoDB server takes, exercised on the real SQLite store.
    owner = UserFactory()
    kept = Project.objects.create(owner=owner, name="Made before")

    write_project_then_fail(owner, _compensating)

    assert list(Project.objects.all()) == [kept]
    assert not Task.objects.exists()
