"""manage.py export and import: the portable JSON Lines file, on the store the suite runs on."""

import datetime
import gc
import gzip
import io
import json
import tracemalloc

import pytest
from bson import ObjectId
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, User
from catalyst import portable
from chat.models import ChatHistory
from projects.models import Project, Task
from tests import sites
from tests.factories import DEFAULT_PASSWORD, ChatHistoryFactory, ProjectFactory, UserFactory

# These tests move password hashes; they do not check their strength.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("quick_password_hashes")]


def export(path) -> bytes:
    call_command("export", str(path), stdout=io.StringIO())
    return path.read_bytes()


def import_(path, *args) -> str:
    out = io.StringIO()
    call_command("import", str(path), *args, stdout=out)
    return out.getvalue()


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_then_import_into_an_empty_site_then_export_gives_the_same_file(tmp_path):
    sites.seed()
    first = export(tmp_path / "first.jsonl")
    portable.site_clear()

    report = import_(tmp_path / "first.jsonl")

    assert "Imported 3 users, 2 apitokens, 3 projects, 3 tasks, 4 chathistories" in report
    assert export(tmp_path / "second.jsonl") == first


def test_the_file_opens_with_its_format_version_and_ends_with_its_counts(tmp_path):
    sites.seed()
    export(tmp_path / "site.jsonl")

    written = lines(tmp_path / "site.jsonl")

    assert written[0] == {
        "format": "project-catalyst",
        "version": 1,
        "collections": ["users", "apitokens", "projects", "tasks", "chathistories"],
        "excluded": ["sessions", "log-in failures and lock-outs", "admin log", "groups and per-user permissions"],
    }
    assert written[-1] == {"end": {"users": 3, "apitokens": 2, "projects": 3, "tasks": 3, "chathistories": 4}}
    assert [line["collection"] for line in written[1:-1]] == ["users"] * 3 + ["apitokens"] * 2 + ["projects"] * 3 + [
        "tasks"
    ] * 3 + ["chathistories"] * 4


def test_an_import_keeps_passwords_tokens_links_and_times(tmp_path):
    owner = UserFactory(email="owner@example.com")
    token, raw_key = ApiToken.issue(user=owner, name="Laptop")
    project = ProjectFactory(owner=owner, name="Launch")
    Task.objects.create(project=project, title="Build", status=Task.Status.DONE)
    chat = ChatHistoryFactory(user=owner, project=project, message="What next?")
    before = {
        "user": User.objects.values("created_at", "updated_at", "password").get(),
        "project": Project.objects.values("created_at", "updated_at").get(),
        "task": Task.objects.values("created_at", "updated_at", "completed_at").get(),
        "chat": ChatHistory.objects.values("created_at", "updated_at").get(),
    }
    export(tmp_path / "site.jsonl")
    portable.site_clear()

    import_(tmp_path / "site.jsonl")

    imported = User.objects.get(email="owner@example.com")
    assert imported.check_password(DEFAULT_PASSWORD)
    assert ApiToken.objects.find(raw_key).user == imported
    assert ChatHistory.objects.get(pk=chat.pk).project.owner == imported
    assert Task.objects.get().project.pk == project.pk
    after = {
        "user": User.objects.values("created_at", "updated_at", "password").get(),
        "project": Project.objects.values("created_at", "updated_at").get(),
        "task": Task.objects.values("created_at", "updated_at", "completed_at").get(),
        "chat": ChatHistory.objects.values("created_at", "updated_at").get(),
    }
    assert after == _to_milliseconds(before)


def _to_milliseconds(rows: dict) -> dict:
    # The file keeps milliseconds, the precision MongoDB and the prototype hold.
    def cut(value):
        if isinstance(value, datetime.datetime):
            return value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value

    return {name: {key: cut(value) for key, value in row.items()} for name, row in rows.items()}


def test_an_import_into_a_site_with_data_is_refused_and_writes_nothing(tmp_path):
    sites.seed()
    export(tmp_path / "site.jsonl")
    before = portable.site_counts()

    with pytest.raises(CommandError, match=r"not empty \(3 users.*--force.*restore"):
        import_(tmp_path / "site.jsonl")

    assert portable.site_counts() == before


def test_force_adds_the_file_beside_existing_data_with_fresh_keys_and_links_that_follow(tmp_path):
    sites.seed()
    export(tmp_path / "site.jsonl")
    portable.site_clear()
    resident = UserFactory(email="resident@example.com")
    ProjectFactory(owner=resident, name="Resident's")

    report = import_(tmp_path / "site.jsonl", "--force")

    assert "(fresh keys)" in report
    assert User.objects.count() == 4
    owner = User.objects.get(email="owner@example.com")
    assert sorted(Project.objects.owned_by(owner).values_list("name", flat=True)) == ["Launch — “v2” ✨", "Old"]
    assert Task.objects.owned_by(owner).count() == 3
    assert ChatHistory.objects.owned_by(owner).filter(project__owner=owner).count() == 1
    assert list(Project.objects.owned_by(resident).values_list("name", flat=True)) == ["Resident's"]


def test_force_refuses_a_file_whose_users_the_site_already_has(tmp_path):
    sites.seed()
    export(tmp_path / "site.jsonl")

    with pytest.raises(CommandError, match="e-mail addresses the site already has: owner@example.com"):
        import_(tmp_path / "site.jsonl", "--force")

    assert User.objects.count() == 3


def test_a_file_cut_short_is_refused_before_anything_is_written(tmp_path):
    sites.seed()
    whole = export(tmp_path / "site.jsonl").decode().splitlines(keepends=True)
    portable.site_clear()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(whole[:-3]))

    with pytest.raises(CommandError, match="no end line: it is incomplete"):
        import_(cut)

    assert not any(portable.site_counts().values())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(lambda rows: rows[0].update(version=2), "format version 2 is newer", id="newer-version"),
        pytest.param(lambda rows: rows[0].update(format="other"), "not a project-catalyst export", id="not-an-export"),
        pytest.param(
            lambda rows: rows[-2]["document"].update(userId="999999"),
            "links to users 999999, not in the file",
            id="link-to-a-missing-user",
        ),
        pytest.param(
            lambda rows: rows[-2]["document"].update(createdAt="yesterday"),
            "createdAt 'yesterday'",
            id="a-time-that-is-not-one",
        ),
        pytest.param(
            lambda rows: rows[-2]["document"].update(mood="happy"),
            r"unknown chathistories fields \['mood'\]",
            id="an-unknown-field",
        ),
        pytest.param(lambda rows: rows[-1]["end"].update(users=9), "end line counts", id="counts-that-disagree"),
        pytest.param(
            lambda rows: rows.insert(-1, rows.pop(3)), "users after chathistories", id="a-user-after-the-chats"
        ),
    ],
)
def test_a_damaged_file_is_refused_and_says_where(tmp_path, change, message):
    sites.seed()
    export(tmp_path / "site.jsonl")
    portable.site_clear()
    rows = lines(tmp_path / "site.jsonl")
    change(rows)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(json.dumps(row) + "\n" for row in rows))

    with pytest.raises(CommandError, match=message):
        import_(damaged)

    assert not any(portable.site_counts().values())


def test_a_gzip_export_holds_the_same_lines_and_the_same_data_gives_the_same_bytes(tmp_path):
    sites.seed()
    plain = export(tmp_path / "site.jsonl")

    once = export(tmp_path / "once.jsonl.gz")
    twice = export(tmp_path / "twice.jsonl.gz")

    assert once == twice
    assert gzip.decompress(once) == plain
    portable.site_clear()
    import_(tmp_path / "once.jsonl.gz")
    assert export(tmp_path / "again.jsonl") == plain


def test_a_failed_export_leaves_no_file_under_the_real_name(tmp_path, monkeypatch):
    sites.seed()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(portable, "_rows_in_key_order", fail)
    with pytest.raises(OSError, match="disk full"):
        export(tmp_path / "site.jsonl")

    assert list(tmp_path.iterdir()) == []


def test_keys_are_written_as_the_store_holds_them_and_kept_on_import():
    assert portable.key_text(42) == "42"
    assert portable.key_text(ObjectId("00000000000000000000002a")) == "42"
    assert portable.key_text(ObjectId("65a1b2c3d4e5f60718293a4b")) == "65a1b2c3d4e5f60718293a4b"
    assert portable.key_for_store("42", "sqlite") == 42
    assert portable.key_for_store("42", "mongodb") == ObjectId("00000000000000000000002a")
    assert portable.key_for_store("65a1b2c3d4e5f60718293a4b", "mongodb") == ObjectId("65a1b2c3d4e5f60718293a4b")
    # An ObjectId does not fit an SQLite key: the import gives a fresh one.
    assert portable.key_for_store("65a1b2c3d4e5f60718293a4b", "sqlite") is None


def test_a_chat_saved_during_the_export_by_a_user_written_too_late_is_left_out(tmp_path, monkeypatch):
    sites.seed()
    rows_in_key_order = portable._rows_in_key_order

    def with_a_newcomer(model, *args, **kwargs):
        if model is ChatHistory:
            # Users are already written when the newcomer signs up and chats.
            ChatHistoryFactory(user=UserFactory(email="newcomer@example.com"))
        return rows_in_key_order(model, *args, **kwargs)

    monkeypatch.setattr(portable, "_rows_in_key_order", with_a_newcomer)
    out = io.StringIO()
    call_command("export", str(tmp_path / "site.jsonl"), stdout=out)

    assert "Left out 1 chathistories created during the export" in out.getvalue()
    monkeypatch.undo()
    portable.site_clear()
    import_(tmp_path / "site.jsonl")
    assert ChatHistory.objects.count() == 4


def test_export_and_import_page_through_many_chats_in_key_order(tmp_path):
    owner = UserFactory()
    ChatHistory.objects.bulk_create(ChatHistory(user=owner, message=f"Question {n}") for n in range(1050))
    with portable.open_for_writing(tmp_path / "site.jsonl") as out:
        report = portable.site_export(out, chunk_size=100)
    assert report.counts["chathistories"] == 1050
    keys = [row["document"]["_id"] for row in lines(tmp_path / "site.jsonl")[1:-1] if row["collection"] != "users"]
    assert len(set(keys)) == 1050
    portable.site_clear()

    imported = portable.site_import(tmp_path / "site.jsonl", chunk_size=100)

    assert imported.counts["chathistories"] == 1050
    assert ChatHistory.objects.filter(user__email=owner.email).count() == 1050


def _peak_memory(action) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_export_and_import_memory_does_not_grow_with_the_number_of_chats(tmp_path):
    owner = UserFactory(email="owner@example.com")
    message = "x" * 1000
    peaks = {}
    # The first round fills the bounded caches a process keeps anyway (compiled SQL, statements).
    for count in (1500, 500, 2500):
        ChatHistory.objects.all().delete()
        ChatHistory.objects.bulk_create(ChatHistory(user=owner, message=message) for _ in range(count))
        path = tmp_path / f"{count}.jsonl"

        def export_all(path=path):
            with portable.open_for_writing(path) as out:
                portable.site_export(out, chunk_size=100)

        exporting = _peak_memory(export_all)
        portable.site_clear()
        importing = _peak_memory(lambda path=path: portable.site_import(path, chunk_size=100))
        owner = User.objects.get()
        peaks[count] = (exporting, importing)

    # Holding the 2,000 extra chats would take more than their text; the peak grows by a fraction of it.
    extra_text = 2000 * len(message)
    for small, large in zip(peaks[500], peaks[2500], strict=True):
        assert large - small < extra_text / 4, peaks
