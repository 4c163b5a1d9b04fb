import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from catalyst.stores import database_from_url

BASE_DIR = Path(__file__).resolve().parents[2]
UNREACHABLE_MONGO = "mongodb://127.0.0.1:9/catalyst_check?serverSelectionTimeoutMS=300&connectTimeoutMS=300"


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


def test_no_database_url_means_an_sqlite_file_in_wal_mode(tmp_path):
    database = database_from_url("", base_dir=tmp_path)

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == tmp_path / "db.sqlite3"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["timeout"] > 0


@pytest.mark.parametrize(
    ("url", "host", "name"),
    [
        ("mongodb://localhost:27017/planner", "mongodb://localhost:27017/planner", "planner"),
        ("mongodb://localhost:27017", "mongodb://localhost:27017", "project_catalyst"),
        ("mongodb+srv://u:p@cluster0.example.net/?retryWrites=true", None, "project_catalyst"),
    ],
)
def test_mongodb_urls_select_the_mongodb_backend(tmp_path, url, host, name):
    database = database_from_url(url, base_dir=tmp_path)

    assert database["ENGINE"] == "django_mongodb_backend"
    assert database["HOST"] == (host or url)
    assert database["NAME"] == name


def test_sqlite_urls_take_relative_and_absolute_paths(tmp_path):
    assert database_from_url("sqlite:///data/app.db", base_dir=tmp_path)["NAME"] == tmp_path / "data/app.db"
    assert database_from_url("sqlite:////srv/app.db", base_dir=tmp_path)["NAME"] == Path("/srv/app.db")


def test_an_unknown_scheme_is_refused(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="postgres"):
        database_from_url("postgres://localhost/db", base_dir=tmp_path)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0", "ALLOWED_HOSTS": "x", "SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off."),
        ({"DEBUG": "0", "SECRET_KEY": "k", "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set when DEBUG is off."),
        ({"DEBUG": "1", "DATABASE_URL": "postgres://localhost/db"}, "DATABASE_URL scheme 'postgres' is not supported"),
        (
            {"DEBUG": "0", "SECRET_KEY": "k", "ALLOWED_HOSTS": "x", "EMAIL_BACKEND": ""},
            "EMAIL_BACKEND must be set when DEBUG is off",
        ),
        ({"DEBUG": "1", "AI_PROVIDER": "anthropic"}, "AI_PROVIDER must be one of auto, gemini, openai, offline."),
    ],
)
def test_bad_configuration_stops_start_up_with_one_clear_line(env, message):
    result = run_python("manage.py", "check", **env)

    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {message}")


@pytest.mark.django_db
def test_the_sqlite_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_mongodb_migrations_match_the_models():
    result = run_python("-m", "mongo_migrations", "--check", DATABASE_URL=UNREACHABLE_MONGO, SECRET_KEY="k")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_mongodb_mode_checks_clean_and_loads_its_migration_set():
    result = run_python(
        "-c",
        "import django; django.setup();"
        "from django.conf import settings; from django.db.migrations.loader import MigrationLoader;"
        "loader = MigrationLoader(None);"
        "print(settings.DEFAULT_AUTO_FIELD);"
        "print(sorted({app for app, _ in loader.disk_migrations}));"
        "print(loader.disk_migrations[('auth', '0001_initial')].__module__)",
        DATABASE_URL=UNREACHABLE_MONGO,
        SECRET_KEY="k",
        ALLOWED_HOSTS="x",
        DJANGO_SETTINGS_MODULE="catalyst.settings",
    )

    assert result.returncode == 0, result.stderr
    auto_field, apps, auth_module = result.stdout.splitlines()
    assert auto_field == "django_mongodb_backend.fields.ObjectIdAutoField"
    assert {"accounts", "projects", "chat", "auth", "admin", "contenttypes", "axes"} <= set(eval(apps))
    assert auth_module.startswith("mongo_migrations.auth")


def test_the_apps_querysets_compile_to_mongodb_pipelines():
    result = run_python(
        "-m", "tests.mongo_compile", "--with-control", DATABASE_URL=UNREACHABLE_MONGO, SECRET_KEY="k", ALLOWED_HOSTS="x"
    )

    assert result.returncode == 0, result.stderr
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    grouped, control = reports.pop(), reports.pop()
    assert control["query"] == "control" and "NotSupportedError" in control["error"]
    assert grouped["query"] == "control grouped" and "sorts on updatedAt" in grouped["error"]
    assert len(reports) >= 10
    assert [r for r in reports if "error" in r] == []


def test_health_answers_503_when_the_store_is_unreachable():
    script = (
        "import django, json; django.setup();"
        "from django.test import Client; r = Client().get('/api/health');"
        "print(r.status_code); print(json.dumps(r.json()))"
    )
    result = run_python(
        "-c",
        script,
        DATABASE_URL=UNREACHABLE_MONGO,
        SECRET_KEY="k",
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="catalyst.settings",
    )

    status, body = result.stdout.strip().splitlines()[-2:]
    assert status == "503"
    assert json.loads(body)["database"] == "error"


def test_with_debug_off_static_files_get_compressed_hashed_names():
    result = run_python(
        "-c",
        "import django; django.setup(); from django.conf import settings;"
        "print(settings.STORAGES['staticfiles']['BACKEND'])",
        DEBUG="0",
        SECRET_KEY="k",
        ALLOWED_HOSTS="example.com",
        DJANGO_SETTINGS_MODULE="catalyst.settings",
    )

    assert result.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.mark.django_db
def test_the_apps_querysets_run_on_the_configured_store():
    from tests.factories import ProjectFactory
    from tests.mongo_compile import querysets

    project = ProjectFactory()

    for label, queryset in querysets(project.owner, project):
        assert isinstance(list(queryset), list), label


@pytest.mark.django_db
def test_the_configured_store_holds_every_model_and_has_every_migration_applied():
    # Plain `check` leaves out the database's own checks (such as MongoDB's
    # need for ObjectId keys); naming the database runs them.
    call_command("check", "--database", "default", "--fail-level", "WARNING", verbosity=0)
    call_command("migrate", "--check", "--database", "default", skip_checks=False, verbosity=0)


def test_the_store_check_fails_for_a_model_mongodb_cannot_hold():
    # django-axes' own app config, as before MongoDB mode gave it ObjectId keys.
    script = (
        "from django.conf import settings;"
        "settings.INSTALLED_APPS = ['axes' if app.endswith('MongoAxesConfig') else app"
        " for app in settings.INSTALLED_APPS];"
        "import django; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', '--database', 'default')"
    )
    result = run_python(
        "-c",
        script,
        DATABASE_URL=UNREACHABLE_MONGO,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="catalyst.settings",
    )

    assert result.returncode != 0
    assert "axes.AccessAttempt" in result.stderr and "mongodb.E001" in result.stderr
