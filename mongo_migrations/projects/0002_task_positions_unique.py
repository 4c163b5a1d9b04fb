from django.db import migrations, models


def renumber_positions(apps, schema_editor):
    """Give tasks 0, 1, 2… within each project, so positions can be unique."""
    Task = apps.get_model("projects", "Task")
    previous, index = None, 0
    for task in Task.objects.order_by("project_id", "position", "created_at", "pk").iterator():
        index = index + 1 if task.project_id == previous else 0
        previous = task.project_id
        if task.position != index:
            Task.objects.filter(pk=task.pk).update(position=index)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(renumber_positions, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="task",
            name="task_project_position",
        ),
        migrations.AddConstraint(
            model_name="task",
            constraint=models.UniqueConstraint(fields=("project", "position"), name="task_project_position_unique"),
        ),
    ]
