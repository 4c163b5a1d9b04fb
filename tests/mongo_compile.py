"""Compile the app's querysets to MongoDB aggregation pipelines, with no server.

Run in a process whose DATABASE_URL is a mongodb:// URL. django-mongodb-backend
builds each pipeline before it talks to the server; building it is where an
unsupported query raises ``NotSupportedError``. Prints one JSON line per
queryset: its label and either ``"ok"`` or the error.

A grouped query that still sorts on a field its grouping dropped (a model's
default ordering, which SQL Django leaves out of GROUP BY queries and this
backend carries along) is reported as an error too: it sorts by nothing.
"""

import datetime
import json
import os
import sys

import django


def querysets(user, project):
    """The app's querysets for ``user`` and ``project``, each with a label."""
    from django.db.models import Count, Q

    from accounts.models import ApiToken, User
    from chat.models import ChatHistory
    from projects.models import Project, Task

    today = datetime.date(2026, 1, 1)
    yield "users by email", User.objects.filter(email__iexact="A@example.com")
    yield "token lookup", ApiToken.objects.select_related("user").filter(key_hash="x", user__is_active=True)
    yield "tokens of a user", ApiToken.objects.owned_by(user)
    yield "active projects", Project.objects.owned_by(user).active()
    yield "archived projects", Project.objects.owned_by(user).archived()
    yield "projects by name", Project.objects.owned_by(user).filter(name__icontains="plan")
    yield (
        "project counts by status",
        Project.objects.owned_by(user).values("status").annotate(n=Count("pk")).order_by(),
    )
    yield "tasks of a user", Task.objects.owned_by(user).select_related("project")
    yield "open tasks", Task.objects.owned_by(user).open()
    yield "overdue tasks", Task.objects.owned_by(user).overdue(today)
    yield "tasks due this week", Task.objects.owned_by(user).due_within(7, today)
    yield (
        "task progress by project",
        Task.objects.owned_by(user)
        .values("project")
        .annotate(total=Count("pk"), done=Count("pk", filter=Q(status="done")))
        .order_by(),
    )
    yield "projects searched", Project.objects.owned_by(user).search("launch")
    yield "tasks in projects", Task.objects.in_projects([project]).overdue(today).by_due_date()[:9]
    yield "progress pairs", Task.objects.in_projects([project]).values_list("project_id", "status").order_by()
    yield "next position", Task.objects.filter(project=project).order_by("-position").values_list("position", flat=True)
    moment = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    planning = ChatHistory.objects.owned_by(user).in_chat(chat_type="project-planning", project=project)
    yield "project chat page", planning.before(moment, pk=project.pk).newest_first()[:21]
    yield "general chat", ChatHistory.objects.owned_by(user).in_chat(chat_type="project-planning")
    yield "chat search", planning.matching("budget").order_by("-created_at")[:50]
    yield "pending replies", planning.pending().values_list("pk", flat=True)
    yield "recent chats", ChatHistory.objects.owned_by(user).planning().newest_first()[:5]
    if "--with-control" in sys.argv:
        # Proves the check can fail: MongoDB has no .extra().
        yield "control", Project.objects.extra(select={"one": "1"})
        # Proves the sort check can fail: the default ordering left in a grouped query.
        yield "control grouped", Project.objects.owned_by(user).values("status").annotate(n=Count("pk"))


def pipeline_of(queryset) -> list[dict]:
    compiler = queryset.query.get_compiler(using=queryset.db)
    compiler.pre_sql_setup()
    return compiler.build_query(compiler.columns).get_pipeline()


def sorts_on_dropped_fields(pipeline: list[dict]) -> list[str]:
    """Fields a ``$sort`` after a ``$group`` orders by that the grouping did not keep."""
    kept: set[str] | None = None
    dropped = []
    for stage in pipeline:
        if "$group" in stage:
            group = stage["$group"]
            keys = group["_id"] if isinstance(group["_id"], dict) else {}
            kept = {name for name in group if name != "_id"} | set(keys)
        elif kept is not None and "$addFields" in stage:
            kept |= set(stage["$addFields"])
        elif kept is not None and "$sort" in stage:
            dropped += [name for name in stage["$sort"] if name.split(".")[0] not in kept]
    return dropped


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "catalyst.settings")
    django.setup()
    from django.db import connection

    from accounts.models import User
    from projects.models import Project

    if connection.vendor != "mongodb":
        sys.exit("Set DATABASE_URL to a mongodb:// URL.")
    user = User(pk="65f000000000000000000001", email="a@example.com")
    project = Project(pk="65f000000000000000000002", owner=user)
    for label, queryset in querysets(user, project):
        try:
            dropped = sorts_on_dropped_fields(pipeline_of(queryset))
        except Exception as error:  # report every kind of failure, keep going
            print(json.dumps({"query": label, "error": f"{type(error).__name__}: {error}"}))
        else:
            if dropped:
                error = f"sorts on {', '.join(dropped)}, which the grouping dropped; clear the ordering"
                print(json.dumps({"query": label, "error": error}))
            else:
                print(json.dumps({"query": label, "result": "ok"}))


if __name__ == "__main__":
    main()
