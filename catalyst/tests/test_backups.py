"""manage.py backup and restore."""

import io
import json
import sqlite3
import subprocess
import time

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from catalyst import backups, portable
from projects.models import Project
from tests import sites
from tests.factories import UserFactory
from tests.mongo_server import DATABASE_NAME, mongo_server, secantus_command

# These tests copy password hashes; they do not check their strength.
pytestmark = pytest.mark.usefixtures("quick_password_hashes")


@pytest.fixture
def backup_dir(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    return settings.BACKUP_DIR


def backup(*args) -> str:
    out = io.StringIO()
    call_command("backup", *args, stdout=out)
    return out.getvalue()


def restore(path, *args) -> str:
    out = io.StringIO()
    call_command("restore", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_backup_is_a_dated_file_and_only_the_newest_are_kept(backup_dir):
    UserFactory()
    backup_dir.mkdir()
    old = [backup_dir / f"catalyst-2024010{day}-000000-000000.sqlite3" for day in (1, 2, 3)]
    unrelated = [backup_dir / "notes.txt", backup_dir / "catalyst-by-hand.sqlite3"]
    for path in old + unrelated:
        path.write_text("")

    report = backup("--keep", "2")

    made = backups.backups_list(backup_dir)[-1]
    suffix = ".jsonl.gz" if settings.USING_MONGODB else ".sqlite3"
    assert made.name.startswith("catalyst-") and made.name.endswith(suffix)
    assert f"Backed up to {made}" in report
    assert "Removed 2 older backups, keeping the newest 2." in report
    assert sorted(backup_dir.iterdir()) == sorted([old[2], made, *unrelated])


@pytest.mark.django_db(transaction=True)
def test_backup_keep_zero_keeps_every_backup(backup_dir, settings):
    settings.BACKUP_KEEP = 0
    UserFactory()
    for _ in range(3):
        backup()

    assert len(backups.backups_list(backup_dir)) == 3


@pytest.mark.django_db(transaction=True)
def test_restore_brings_a_backup_back_and_first_saves_the_data_it_replaces(backup_dir):
    sites.seed()
    backup()
    (taken,) = backups.backups_list(backup_dir)
    before = exported()
    Project.objects.filter(name="Old").delete()
    UserFactory(email="later@example.com")

    report = restore(taken, "--noinput")

    assert f"Restored {taken}: 3 users, 2 apitokens, 3 projects, 3 tasks, 4 chathistories." in report
    assert not User.objects.filter(email="later@example.com").exists()
    assert Project.objects.filter(name="Old").exists()
    assert exported() == before
    saved = [path for path in backups.backups_list(backup_dir) if path != taken]
    assert f"The data it replaced is saved in {saved[0]}." in report


def exported() -> str:
    out = io.StringIO()
    portable.site_export(out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_restore_asks_first_and_a_no_changes_nothing(backup_dir, monkeypatch):
    UserFactory(email="kept@example.com")
    backup()
    (taken,) = backups.backups_list(backup_dir)
    UserFactory(email="later@example.com")
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Restore cancelled"):
        call_command("restore", str(taken), stdout=io.StringIO())

    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_restoring_a_damaged_export_changes_nothing(backup_dir, tmp_path):
    UserFactory(email="kept@example.com")
    with portable.open_for_writing(tmp_path / "site.jsonl") as out:
        portable.site_export(out)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join((tmp_path / "site.jsonl").read_text().splitlines(keepends=True)[:-1]))

    with pytest.raises(CommandError, match="no end line.*Nothing was changed"):
        restore(cut, "--noinput")

    assert list(User.objects.values_list("email", flat=True)) == ["kept@example.com"]
    assert not backup_dir.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not settings.USING_MONGODB, reason="a MongoDB site refusing an SQLite copy")
def test_a_mongodb_site_refuses_an_sqlite_copy(backup_dir, tmp_path):
    copy = tmp_path / "catalyst-20240101-000000-000000.sqlite3"
    sqlite3.connect(copy).execute("CREATE TABLE users (id)").connection.close()

    with pytest.raises(CommandError, match="copy of an SQLite database; this site uses MongoDB"):
        restore(copy, "--noinput")


class SqliteSites:
    """Fresh SQLite sites, each a file."""

    def __init__(self, directory):
        self.directory = directory

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def url(self, name: str) -> str:
        return f"sqlite:///{self.directory / name}.db"

    def chats(self, url: str) -> int:
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as reader:
            return reader.execute("SELECT count(*) FROM chathistories").fetchone()[0]


class MongoSites:
    """Fresh databases on one throwaway MongoDB server."""

    def __init__(self, directory):
        self.server = mongo_server()

    def __enter__(self):
        self.base = self.server.__enter__()
        return self

    def __exit__(self, *exc):
        return self.server.__exit__(*exc)

    def url(self, name: str) -> str:
        return self.base.replace(f"/{DATABASE_NAME}?", f"/{name}?")

    def chats(self, url: str) -> int:
        import pymongo

        with pymongo.MongoClient(url) as client:
            return client.get_default_database()["chathistories"].count_documents({})


@pytest.mark.skipif(settings.USING_MONGODB, reason="starts its own sites of each store; runs in the SQLite pass")
@pytest.mark.parametrize(
    "store",
    [
        pytest.param(SqliteSites, id="sqlite"),
        pytest.param(
            MongoSites,
            id="mongodb",
            marks=pytest.mark.skipif(secantus_command() is None, reason="secantusd-py is not installed"),
        ),
    ],
)
def test_a_backup_taken_while_chats_are_written_restores_to_a_working_site(tmp_path, store):
    with store(tmp_path) as stores:
        live = stores.url("live")
        sites.run("migrate", "--noinput", database_url=live)
        sites.run("sites", "seed", database_url=live)
        stop = tmp_path / "stop"
        line, environment = sites.command("sites", "write-chats", str(stop), database_url=live)
        writer = subprocess.Popen(line, cwd=sites.PROJECT_DIR, env=environment, stdout=subprocess.PIPE, text=True)
        try:
            _wait_for(lambda: stores.chats(live) > 4 + 50)
            sites.run("backup", "--dir", str(tmp_path / "backups"), database_url=live)
            assert writer.poll() is None, "the writer kept going through the backup"
            after_backup = stores.chats(live)
            _wait_for(lambda: stores.chats(live) > after_backup + 50)
        finally:
            stop.touch()
            written = int(writer.communicate(timeout=60)[0])
        (taken,) = backups.backups_list(tmp_path / "backups")

        restored = stores.url("restored")
        if store is MongoSites:
            sites.run("migrate", "--noinput", database_url=restored)
        sites.run("restore", "--noinput", str(taken), database_url=restored)

        # A snapshot from the middle of the writing: some of the new chats, not all.
        in_backup = stores.chats(restored)
        assert 4 + 50 < in_backup < 4 + written == stores.chats(live)
        sites.run("migrate", "--check", database_url=restored)
        seen = json.loads(sites.run("sites", "visit", database_url=restored))
    assert seen["owner@example.com"] == {"page": 200, "api": 200, "chats": min(1000, in_backup - 3)}
    assert seen["staff@example.com"] == {"page": 200, "api": 200, "chats": 0}


def _wait_for(condition) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the writer wrote too slowly"
        time.sleep(0.05)
