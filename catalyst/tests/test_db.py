import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from catalyst.db import _compensating, all_or_nothing
from projects.models import Project, Task
from tests.factories import UserFactory
from tests.mongo_server import mongo_server, secantus_command

BASE_DIR = Path(__file__).resolve().parents[2]

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


def test_on_mongodb_all_or_nothing_uses_a_transaction_exactly_when_the_server_is_a_replica_set():
    if connection.vendor != "mongodb":
        pytest.skip("MongoDB only: SQLite always has transactions.")
    hello = connection.connection.admin.command("hello")

    assert connection.features._supports_transactions == ("setName" in hello)


@pytest.mark.skipif(secantus_command() is None, reason="secantusd-py is not installed (requirements-dev.txt)")
def test_all_or_nothing_holds_on_a_standalone_mongodb_server_too():
    # The suite's own MongoDB run is a replica set, so it proves the
    # transaction path; this runs the tests above on a standalone server,
    # which has no transactions, so they prove the compensation path.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    with mongo_server(standalone=True) as url:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", __file__, "-q", "-k", "not standalone_mongodb_server"]
            # Plugins these tests do not use cost seconds of start-up.
            + ["-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest"],
            cwd=BASE_DIR,
            env={**environment, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode == 0, result.stdout[-4000:]
    assert "4 passed" in result.stdout
