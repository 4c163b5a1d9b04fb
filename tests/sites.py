"""Scripts that act on a whole site from a process of its own, for tests that
run ``manage.py`` against several databases (``DATABASE_URL`` picks one)::

    python -m tests.sites seed              # users, tokens, projects, tasks, chats of every kind
    python -m tests.sites write-chats STOP  # save chats until the file STOP exists
    python -m tests.sites visit             # sign in as each user; print the pages' and API's answers as JSON

``run`` starts one of these, or ``manage.py``, against a database URL.
"""

import datetime
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TIMEOUT = 300


def command(*args: str, database_url: str, **env: str) -> tuple[list[str], dict]:
    """The command line and environment that run ``manage.py ARGS`` (or ``-m tests.sites ARGS``) on a database."""
    program = ["-m", "tests.sites", *args[1:]] if args[0] == "sites" else ["manage.py", *args]
    return [sys.executable, *program], {**os.environ, "DATABASE_URL": database_url, **env}


def run(*args: str, database_url: str, **env: str) -> str:
    """Run to the end; its standard output. A failure raises with what it printed."""
    line, environment = command(*args, database_url=database_url, **env)
    done = subprocess.run(
        line, cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed() -> None:
    """A small site with every kind of record and value the export writes."""
    from django.utils import timezone

    from accounts.models import ApiToken
    from chat.models import ChatHistory
    from projects.models import Project, Task
    from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory

    moment = datetime.datetime(2025, 3, 4, 5, 6, 7, 891234, tzinfo=datetime.UTC)
    owner = UserFactory(email="owner@example.com", name="Ada Owner")
    staff = UserFactory(email="staff@example.com", name="Staff Person", is_staff=True, is_superuser=True)
    UserFactory(email="quiet@example.com", name="", is_active=False)
    ApiToken.issue(user=owner, name="Laptop")
    ApiToken.issue(user=staff, name="Scripts")
    launch = ProjectFactory(
        owner=owner,
        name="Launch — “v2” ✨",
        description="Line one\nline two",
        status=Project.Status.ACTIVE,
        priority="high",
        start_date=datetime.date(2025, 1, 1),
        due_date=datetime.date(2025, 12, 31),
        created_at=moment,
    )
    archived = ProjectFactory(owner=owner, name="Old", archived_at=moment)
    ProjectFactory(owner=staff, name="Staff project")
    TaskFactory(project=launch, title="Design", status=Task.Status.DONE, estimate_hours=Decimal("2.5"))
    TaskFactory(project=launch, title="Build", due_date=datetime.date(2025, 6, 1), estimate_hours=Decimal("10"))
    TaskFactory(project=archived, title="Forgotten", status=Task.Status.IN_PROGRESS)
    ChatHistoryFactory(user=owner, message="Plan my week", response="**Monday**: rest", created_at=moment)
    ChatHistoryFactory(user=owner, project=launch, message="What next?", response="Build it.")
    ChatHistoryFactory(
        user=owner,
        message="Where is settings?",
        response="",
        chat_type=ChatHistory.ChatType.NAVIGATION,
        status=ChatHistory.Status.FAILED,
        error="The assistant is unreachable.",
        error_kind=ChatHistory.ErrorKind.UNAVAILABLE,
    )
    ChatHistoryFactory(
        user=staff,
        message="Draft a project",
        response="Half a repl",
        chat_type=ChatHistory.ChatType.NEW_PROJECT,
        status=ChatHistory.Status.INTERRUPTED,
        error_kind=ChatHistory.ErrorKind.CUT,
        model_name="gemini-2.5-flash",
        prompt_tokens=120,
        response_tokens=7,
        created_at=timezone.now(),
    )


def write_chats(stop: Path) -> None:
    """Save a chat for the first user again and again until ``stop`` exists; print how many."""
    from accounts.models import User
    from chat.models import ChatHistory

    user = User.objects.order_by("pk").first()
    written = 0
    while not stop.exists():
        ChatHistory.objects.create(user=user, message=f"Written while backing up {written}", response="ok")
        written += 1
        time.sleep(0.002)
    print(written)


def visit() -> None:
    """What each user sees: the chat page's status and the chat API's answer, as JSON."""
    from django.conf import settings
    from django.test import Client, override_settings

    from accounts.models import User

    # Hashed static names need collectstatic; the pages are what is checked here.
    plain = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    seen = {}
    with override_settings(STORAGES=plain):
        for user in User.objects.order_by("email"):
            client = Client()
            client.force_login(user)
            page = client.get("/chat/")
            api = client.get(f"/api/chat/history/{user.pk}?limit=1000")
            chats = len(api.json()["data"]) if api.status_code == 200 else None
            seen[user.email] = {"page": page.status_code, "api": api.status_code, "chats": chats}
    print(json.dumps(seen))


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")
    import django

    django.setup()
    command, *rest = argv
    if command == "seed":
        seed()
    elif command == "write-chats":
        write_chats(Path(rest[0]))
    elif command == "visit":
        visit()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
