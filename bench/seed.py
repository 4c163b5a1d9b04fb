"""Seed a benchmark database: one user with many projects, tasks and chats.

python -m bench.seed PROJECTS TASKS CHATS     # the bench user with its projects, tasks and chats
python -m bench.seed user EMAIL PASSWORD      # another account, with no data
python -m bench.seed chats EMAIL COUNT        # COUNT more planning-chat exchanges for an account
"""

import datetime
import os
import sys

import django

USER_EMAIL = "bench@example.com"
USER_PASSWORD = "bench-password-1"
CHAT_BATCH = 5000


def seed(projects: int, tasks_per_project: int, chats: int) -> None:
    from django.utils import timezone

    from accounts.models import User
    from chat.models import ChatHistory
    from projects.models import Project, Task

    user = User.objects.create_user(USER_EMAIL, USER_PASSWORD, name="Bench")
    today = timezone.localdate()
    for p in range(projects):
        project = Project.objects.create(owner=user, name=f"Project {p}", description="Seeded for benchmarks.")
        Task.objects.bulk_create(
            Task(
                project=project,
                title=f"Task {p}.{t}",
                status=("todo", "in-progress", "done")[t % 3],
                due_date=today + datetime.timedelta(days=t - 5),
                position=t,
            )
            for t in range(tasks_per_project)
        )
    ChatHistory.objects.bulk_create(
        ChatHistory(user=user, message=f"Question {c}?", response="An answer. " * 40) for c in range(chats)
    )


def user_seed(email: str, password: str) -> None:
    from accounts.models import User

    User.objects.create_user(email, password, name=email.split("@")[0])


def chats_seed(email: str, count: int) -> None:
    """``count`` finished exchanges, one a minute back from now, written in batches."""
    from django.utils import timezone

    from accounts.models import User
    from chat.models import ChatHistory

    user = User.objects.get(email=email)
    start = timezone.now() - datetime.timedelta(minutes=count)
    for first in range(0, count, CHAT_BATCH):
        ChatHistory.objects.bulk_create(
            ChatHistory(
                user=user,
                message=f"Question {c}?",
                response="An answer. " * 40,
                created_at=start + datetime.timedelta(minutes=c),
            )
            for c in range(first, min(first + CHAT_BATCH, count))
        )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")
    django.setup()
    if sys.argv[1] == "user":
        user_seed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "chats":
        chats_seed(sys.argv[2], int(sys.argv[3]))
    else:
        seed(*(int(arg) for arg in sys.argv[1:4]))
