"""Test helpers for the projects app."""

import datetime

from django.utils import timezone

from projects.models import Project, Task
from tests.factories import ChatHistoryFactory


def build_portfolio(user, *, projects: int, tasks_per_project: int) -> list[Project]:
    """Projects with a realistic mix of task states and due dates, written in bulk."""
    today = timezone.localdate()
    created = Project.objects.bulk_create(
        Project(owner=user, name=f"Project {n}", status=Project.Status.choices[n % 4][0]) for n in range(projects)
    )
    statuses = [value for value, _ in Task.Status.choices]
    Task.objects.bulk_create(
        Task(
            project=project,
            title=f"Task {p}.{n}",
            status=statuses[n % 3],
            due_date=today + datetime.timedelta(days=(n % 11) - 4),
            position=n,
        )
        for p, project in enumerate(created)
        for n in range(tasks_per_project)
    )
    for project in created[:5]:
        ChatHistoryFactory(user=user, project=project)
    return created
