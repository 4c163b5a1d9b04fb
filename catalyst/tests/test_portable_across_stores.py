"""SQLite → MongoDB → SQLite through manage.py export and import, each site in its own process."""

import json

import pytest
from django.conf import settings

from tests import sites
from tests.mongo_server import mongo_server, secantus_command

pytestmark = [
    pytest.mark.skipif(
        secantus_command() is None,
        reason="secantusd-py is not installed (pip install -r requirements-dev.txt); "
        "the SQLite → MongoDB → SQLite round trip needs a MongoDB server",
    ),
    pytest.mark.skipif(
        settings.USING_MONGODB, reason="starts its own SQLite and MongoDB sites; it runs once, in the SQLite pass"
    ),
]


def test_sqlite_to_mongodb_to_sqlite_gives_back_identical_files_and_the_same_site(tmp_path):
    first = f"sqlite:///{tmp_path / 'first.db'}"
    sites.run("migrate", "--noinput", database_url=first)
    sites.run("sites", "seed", database_url=first)
    sites.run("export", str(tmp_path / "from-sqlite.jsonl"), database_url=first)
    seen_first = json.loads(sites.run("sites", "visit", database_url=first))

    with mongo_server() as mongodb:
        sites.run("migrate", "--noinput", database_url=mongodb)
        sites.run("import", str(tmp_path / "from-sqlite.jsonl"), database_url=mongodb)
        sites.run("export", str(tmp_path / "from-mongodb.jsonl"), database_url=mongodb)
        seen_on_mongodb = json.loads(sites.run("sites", "visit", database_url=mongodb))

    second = f"sqlite:///{tmp_path / 'second.db'}"
    sites.run("migrate", "--noinput", database_url=second)
    sites.run("import", str(tmp_path / "from-mongodb.jsonl"), database_url=second)
    sites.run("export", str(tmp_path / "back-on-sqlite.jsonl"), database_url=second)
    seen_second = json.loads(sites.run("sites", "visit", database_url=second))

    exported = (tmp_path / "from-sqlite.jsonl").read_bytes()
    assert (tmp_path / "from-mongodb.jsonl").read_bytes() == exported
    assert (tmp_path / "back-on-sqlite.jsonl").read_bytes() == exported
    assert exported.count(b"\n") == 1 + 3 + 2 + 3 + 3 + 4 + 1
    assert seen_first["owner@example.com"] == {"page": 200, "api": 200, "chats": 1}
    assert seen_on_mongodb == seen_first
    assert seen_second == seen_first
