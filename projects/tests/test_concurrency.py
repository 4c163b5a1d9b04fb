"""Task positions stay distinct when many creations race (on either store)."""

import threading

import pytest
from django.db import connection

from projects.models import Task
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db(transaction=True)

CREATIONS = 50


def test_parallel_creations_get_distinct_positions():
    project = ProjectFactory()
    start = threading.Barrier(CREATIONS)
    failures = []

    def create(n: int) -> None:
        try:
            start.wait()
            Task(project_id=project.pk, title=f"Task {n}").save_at_end()
        except Exception as error:  # reported below, with the others
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(CREATIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    positions = sorted(Task.objects.filter(project=project).values_list("position", flat=True))
    assert positions == list(range(CREATIONS))


def test_reordering_keeps_positions_distinct():
    project = ProjectFactory()
    tasks = []
    for n in range(5):
        task = Task(project=project, title=f"Task {n}")
        task.save_at_end()
        tasks.append(task)

    Task.objects.filter(project=project).save_order(tasks[::-1])
    tasks[0].move("up")

    ordered = list(Task.objects.filter(project=project).values_list("title", "position"))
    assert ordered == [("Task 4", 0), ("Task 3", 1), ("Task 2", 2), ("Task 0", 3), ("Task 1", 4)]
