"""Seed a benchmark database: one user with many projects, tasks and chats."""

import datetime
import os
import sys

import django

USER_EMAIL = "bench@example.com"
USER_PASSWORD = "bench-password-1"  # noqa: S105 - throwaway benchmark account


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


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")
    django.setup()
    seed(*(int(arg) for arg in sys.argv[1:4]))
