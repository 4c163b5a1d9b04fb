import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from catalyst.db import all_or_nothing
from projects.models import Progress, Project, Task
from tests.factories import ProjectFactory, TaskFactory

pytestmark = pytest.mark.django_db


def titles(project):
    return list(project.tasks.values_list("title", flat=True))


def test_progress_counts_done_tasks_out_of_all():
    assert Progress.of(["done", "todo", "in-progress", "done"]) == Progress(done=2, total=4)
    assert Progress(done=2, total=4).percent == 50


def test_progress_without_tasks_is_zero_percent():
    assert Progress.of([]).percent == 0
    assert not Progress.of([]).is_complete


def test_progress_reaches_100_only_when_every_task_is_done():
    assert Progress(done=199, total=200).percent == 99
    assert Progress(done=3, total=3).is_complete


def test_project_progress_reads_its_tasks():
    project = ProjectFactory()
    TaskFactory(project=project, status=Task.Status.DONE)
    TaskFactory(project=project)
    assert project.progress() == Progress(done=1, total=2)


def test_progress_by_project_groups_tasks_per_project():
    first, second = ProjectFactory(), ProjectFactory()
    TaskFactory(project=first, status=Task.Status.DONE)
    TaskFactory(project=first)
    TaskFactory(project=second, status=Task.Status.DONE)
    progress = Task.objects.in_projects([first, second]).progress_by_project()
    assert progress == {first.pk: Progress(1, 2), second.pk: Progress(1, 1)}


def test_project_due_date_before_start_date_is_invalid():
    project = ProjectFactory.build(start_date=datetime.date(2030, 5, 2), due_date=datetime.date(2030, 5, 1))
    with pytest.raises(ValidationError) as error:
        project.full_clean(exclude=["owner"])
    assert "due_date" in error.value.message_dict


def test_archive_and_restore_a_project():
    project = ProjectFactory()
    project.archive()
    assert Project.objects.archived().get() == project
    project.restore()
    assert Project.objects.active().get() == project


def test_search_matches_part_of_the_name_in_any_case():
    wanted = ProjectFactory(name="Garden makeover")
    ProjectFactory(name="Tax return", owner=wanted.owner)
    assert list(Project.objects.search("GARDEN")) == [wanted]
    assert Project.objects.search("  ").count() == 2


def test_done_task_records_when_it_was_completed_and_forgets_it_when_reopened():
    task = TaskFactory()
    task.set_status(Task.Status.DONE)
    assert task.completed_at is not None
    task.set_status(Task.Status.TODO)
    assert task.completed_at is None


def test_set_status_refuses_an_unknown_status():
    task = TaskFactory()
    with pytest.raises(ValidationError):
        task.set_status("someday")
    task.refresh_from_db()
    assert task.status == Task.Status.TODO


def test_overdue_and_due_soon_ignore_done_tasks():
    today = timezone.localdate()
    late = TaskFactory(due_date=today - datetime.timedelta(days=1))
    TaskFactory(due_date=today - datetime.timedelta(days=1), status=Task.Status.DONE)
    soon = TaskFactory(due_date=today + datetime.timedelta(days=7))
    TaskFactory(due_date=today + datetime.timedelta(days=8))
    assert list(Task.objects.overdue()) == [late]
    assert list(Task.objects.due_within(7)) == [soon]
    assert late.is_overdue and not soon.is_overdue


def test_move_swaps_a_task_with_its_neighbour():
    project = ProjectFactory()
    first, second, third = (TaskFactory(project=project, title=t) for t in "ABC")
    assert second.move("up")
    assert titles(project) == ["B", "A", "C"]
    assert third.move("down") is False
    assert titles(project) == ["B", "A", "C"]


def test_move_within_status_skips_tasks_in_other_columns():
    project = ProjectFactory()
    TaskFactory(project=project, title="A")
    TaskFactory(project=project, title="B", status=Task.Status.DONE)
    c = TaskFactory(project=project, title="C")
    assert c.move("up", within_status=True)
    assert titles(project) == ["C", "B", "A"]


def test_move_tidies_scattered_positions():
    project = ProjectFactory()
    TaskFactory(project=project, title="A", position=5)
    b = TaskFactory(project=project, title="B", position=9)
    assert b.move("up")
    assert titles(project) == ["B", "A"]
    assert list(project.tasks.values_list("position", flat=True)) == [0, 1]


def test_the_store_refuses_two_tasks_in_one_place():
    project = ProjectFactory()
    TaskFactory(project=project, title="A", position=5)
    with pytest.raises(IntegrityError), all_or_nothing():
        TaskFactory(project=project, title="B", position=5)
    assert titles(project) == ["A"]


def test_place_moves_a_task_to_another_status_above_a_given_task():
    project = ProjectFactory()
    a = TaskFactory(project=project, title="A")
    b = TaskFactory(project=project, title="B", status=Task.Status.IN_PROGRESS)
    TaskFactory(project=project, title="C")
    project.tasks.get(title="C").place(status=Task.Status.IN_PROGRESS, before=b)
    assert titles(project) == ["A", "C", "B"]
    assert project.tasks.get(title="C").status == Task.Status.IN_PROGRESS
    a.place(status=Task.Status.DONE)
    assert titles(project) == ["C", "B", "A"]
    assert project.tasks.get(title="A").is_done


def test_next_position_follows_the_last_task():
    project = ProjectFactory()
    assert project.tasks.next_position() == 0
    TaskFactory(project=project, position=7)
    assert project.tasks.next_position() == 8
