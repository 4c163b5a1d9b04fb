import datetime
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DatabaseError, models
from django.urls import reverse
from django.utils import timezone

from catalyst.db import all_or_nothing


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


@dataclass(frozen=True)
class Progress:
    """How far a project has come: done tasks out of all its tasks."""

    done: int = 0
    total: int = 0

    @classmethod
    def of(cls, statuses: Iterable[str]) -> "Progress":
        counts = Counter(statuses)
        return cls(done=counts[Task.Status.DONE], total=sum(counts.values()))

    @property
    def percent(self) -> int:
        # Rounded down, so 100% only when every task is done.
        return self.done * 100 // self.total if self.total else 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.done == self.total


class ProjectLinkedQuerySet(models.QuerySet):
    """Records with a ``project`` key: tasks, and chats (whose key may be empty)."""

    def listed_with(self, projects: Iterable["Project"]) -> list:
        """These records, each holding its project where that is one of ``projects``.

        For lists across projects already read: no join (a ``$lookup`` on
        MongoDB) and no query per record.
        """
        by_pk = {project.pk: project for project in projects}
        records = list(self)
        for record in records:
            if record.project_id in by_pk:
                record.project = by_pk[record.project_id]
        return records


class ProjectQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ProjectQuerySet":
        return self.filter(owner=user)

    def active(self) -> "ProjectQuerySet":
        return self.filter(archived_at__isnull=True)

    def archived(self) -> "ProjectQuerySet":
        return self.filter(archived_at__isnull=False)

    def search(self, text: str) -> "ProjectQuerySet":
        text = text.strip()
        return self.filter(name__icontains=text) if text else self


class Project(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        ACTIVE = "active", "Active"
        ON_HOLD = "on-hold", "On hold"
        COMPLETED = "completed", "Completed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects", db_column="userId"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLANNING)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    start_date = models.DateField(null=True, blank=True, db_column="startDate")
    due_date = models.DateField(null=True, blank=True, db_column="dueDate")
    archived_at = models.DateTimeField(null=True, blank=True, db_column="archivedAt")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = ProjectQuerySet.as_manager()

    class Meta:
        db_table = "projects"
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="project_owner_updated")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.name = self.name.strip()
        problems = {}
        if not self.name:
            problems["name"] = "Give the project a name."
        if self.start_date and self.due_date and self.due_date < self.start_date:
            problems["due_date"] = "The due date cannot be before the start date."
        if problems:
            raise ValidationError(problems)

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", kwargs={"pk": self.pk})

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_overdue(self) -> bool:
        return (
            self.status != self.Status.COMPLETED and self.due_date is not None and self.due_date < timezone.localdate()
        )

    def archive(self) -> None:
        self.archived_at = timezone.now()
        self.save(update_fields=["archived_at", "updated_at"])

    def restore(self) -> None:
        self.archived_at = None
        self.save(update_fields=["archived_at", "updated_at"])

    def touch(self) -> None:
        """Mark the project as just updated, so recent activity sorts it first."""
        self.updated_at = timezone.now()
        Project.objects.filter(pk=self.pk).update(updated_at=self.updated_at)

    def progress(self) -> Progress:
        return Progress.of(self.tasks.values_list("status", flat=True))


# Concurrent creations in one project each get a distinct place within this many tries.
POSITION_ATTEMPTS = 20
# Seconds a losing creation waits, at most, before its next try (doubling per try, up to the cap).
POSITION_BACKOFF = 0.002
POSITION_BACKOFF_CAP = 0.2


class TaskQuerySet(ProjectLinkedQuerySet):
    def owned_by(self, user) -> "TaskQuerySet":
        return self.filter(project__owner=user)

    def open(self) -> "TaskQuerySet":
        return self.exclude(status=Task.Status.DONE)

    def overdue(self, today: datetime.date | None = None) -> "TaskQuerySet":
        return self.open().filter(due_date__lt=today or timezone.localdate())

    def due_within(self, days: int, today: datetime.date | None = None) -> "TaskQuerySet":
        today = today or timezone.localdate()
        return self.open().filter(due_date__gte=today, due_date__lte=today + datetime.timedelta(days=days))

    def by_due_date(self) -> "TaskQuerySet":
        return self.order_by("due_date", "position")

    def in_projects(self, projects: Iterable["Project"]) -> "TaskQuerySet":
        # A list of keys, not a join: one simple indexed query on both stores.
        return self.filter(project_id__in=[project.pk for project in projects])

    def progress_by_project(self) -> dict:
        """Progress per project key, from one query over (project, status) pairs."""
        statuses: dict = {}
        for project_id, status in self.values_list("project_id", "status").order_by():
            statuses.setdefault(project_id, []).append(status)
        return {project_id: Progress.of(values) for project_id, values in statuses.items()}

    def progress_of(self, projects: list["Project"]) -> list[tuple["Project", Progress]]:
        """Each of ``projects`` with its progress, in their order, from one query over their tasks."""
        progress = self.in_projects(projects).progress_by_project()
        return [(project, progress.get(project.pk, Progress())) for project in projects]

    def next_position(self) -> int:
        last = self.order_by("-position").values_list("position", flat=True).first()
        return 0 if last is None else last + 1

    def save_order(self, tasks: list["Task"]) -> None:
        """Number ``tasks`` 0, 1, 2… in the given order, writing the changed positions in one go.

        Positions are unique within a project and checked row by row, so the
        changed tasks first step aside to places above every current one, then
        take their own: two bulk updates, whatever the number of tasks.
        """
        changed = [task for index, task in enumerate(tasks) if task.position != index]
        if not changed:
            return
        aside = max(task.position for task in tasks) + 1
        with all_or_nothing():
            for offset, task in enumerate(changed):
                task.position = aside + offset
            self.bulk_update(changed, ["position"])
            for index, task in enumerate(tasks):
                task.position = index
            self.bulk_update(changed, ["position"])


class Task(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", "To do"
        IN_PROGRESS = "in-progress", "In progress"
        DONE = "done", "Done"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks", db_column="projectId")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TODO)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    due_date = models.DateField(null=True, blank=True, db_column="dueDate")
    estimate_hours = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        db_column="estimatedHours",
        help_text="Estimated effort in hours.",
    )
    position = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True, db_column="completedAt")
    #: Provenance: the chat message whose accepted proposal created or last changed the task, and its model.
    source_chat = models.ForeignKey(
        "chat.ChatHistory",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_column="sourceChatId",
    )
    source_model = models.CharField(max_length=100, blank=True, db_column="sourceModel")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = TaskQuerySet.as_manager()

    class Meta:
        db_table = "tasks"
        ordering = ["position", "created_at"]
        indexes = [models.Index(fields=["project", "status", "due_date"], name="task_project_status_due")]
        constraints = [models.UniqueConstraint(fields=["project", "position"], name="task_project_position_unique")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        super().clean()
        self.title = self.title.strip()
        if not self.title:
            raise ValidationError({"title": "Give the task a title."})

    def save_at_end(self) -> None:
        """Create the task after the project's last one.

        The store's unique (project, position) index settles a race between
        two creations: the one that loses takes the next place.
        """
        for attempt in range(POSITION_ATTEMPTS):
            try:
                with all_or_nothing():
                    self.position = Task.objects.filter(project_id=self.project_id).next_position()
                    self.save(force_insert=True)
                return
            except DatabaseError:
                self.pk = None
                if attempt == POSITION_ATTEMPTS - 1:
                    raise
                # SQLite queues writers, but MongoDB lets every racer read the same
                # last place and only one insert wins; a random wait spreads the
                # others out, so they do not all collide again on the next try.
                time.sleep(random.uniform(0, min(POSITION_BACKOFF_CAP, POSITION_BACKOFF * 2**attempt)))

    def save(self, *args, **kwargs) -> None:
        if self.status == self.Status.DONE and self.completed_at is None:
            self.completed_at = timezone.now()
        elif self.status != self.Status.DONE:
            self.completed_at = None
        super().save(*args, **kwargs)

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_overdue(self) -> bool:
        return self.status != self.Status.DONE and self.due_date is not None and self.due_date < timezone.localdate()

    @property
    def is_due_today(self) -> bool:
        return self.status != self.Status.DONE and self.due_date == timezone.localdate()

    def set_status(self, status: str) -> None:
        self.status = status
        # The project is already the caller's own; checking it again costs a query.
        self.full_clean(exclude=["project"])
        self.save(update_fields=["status", "completed_at", "updated_at"])

    def move(self, direction: str, *, within_status: bool = False) -> bool:
        """Swap the task with its neighbour above or below; False at either end.

        ``within_status`` moves it among the tasks of its own status (a board
        column) and leaves the others where they are.
        """
        ordered = list(Task.objects.filter(project_id=self.project_id))
        scope = [task for task in ordered if task.status == self.status] if within_status else ordered
        index = next(i for i, task in enumerate(scope) if task.pk == self.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(scope):
            return False
        mine, theirs = ordered.index(scope[index]), ordered.index(scope[other])
        ordered[mine], ordered[theirs] = ordered[theirs], ordered[mine]
        Task.objects.filter(project_id=self.project_id).save_order(ordered)
        return True

    def place(self, *, status: str, before: "Task | None" = None) -> None:
        """Put the task in ``status``, just above ``before`` or else at the end."""
        ordered = [task for task in Task.objects.filter(project_id=self.project_id) if task.pk != self.pk]
        index = next((i for i, task in enumerate(ordered) if before and task.pk == before.pk), len(ordered))
        ordered.insert(index, self)
        with all_or_nothing():
            if status != self.status:
                self.set_status(status)
            Task.objects.filter(project_id=self.project_id).save_order(ordered)


def _empty_draft() -> dict:
    from projects.drafts import EMPTY_DRAFT

    return dict(EMPTY_DRAFT, tasks=[])


class ProjectDraftQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ProjectDraftQuerySet":
        return self.filter(owner=user)


class ProjectDraft(models.Model):
    """A project being planned in conversation, before it is created.

    ``data`` holds the plan in the JSON API's shape (``projects.drafts``):
    what the assistant drafted, as the user then edited it. The draft's
    conversation is the ``new-project`` chat records that point to it.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_drafts", db_column="userId"
    )
    data = models.JSONField(default=_empty_draft)
    #: The newest exchange the assistant's drafting has read (its ``createdAt``).
    drafted_through = models.DateTimeField(null=True, blank=True, db_column="draftedThrough")
    #: Why the assistant's last draft was not used, in the user's words; empty when it was.
    problem = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = ProjectDraftQuerySet.as_manager()

    class Meta:
        db_table = "projectdrafts"
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="draft_owner_updated")]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self.data.get("name") or "Untitled project"

    def get_absolute_url(self) -> str:
        return reverse("projects:draft", kwargs={"pk": self.pk})

    def finished_through(self) -> datetime.datetime | None:
        """When the newest finished exchange of its conversation was sent; None before any."""
        finished = self.chats.filter(status=self.chats.model.Status.COMPLETE)
        return finished.aggregate(newest=models.Max("created_at"))["newest"]

    def is_behind(self, finished_through: datetime.datetime | None = None) -> bool:
        """Whether an exchange finished after the assistant last drafted."""
        newest = finished_through or self.finished_through()
        return newest is not None and (self.drafted_through is None or newest > self.drafted_through)


class ProposalQuerySet(models.QuerySet):
    def with_changes(self) -> "ProposalQuerySet":
        """With each proposal's changes and their tasks: one query more, however many there are."""
        return self.prefetch_related(models.Prefetch("changes", ProposalChange.objects.select_related("task")))


class Proposal(models.Model):
    """Changes the assistant proposed to a project: nothing changes until the user accepts one.

    ``chat`` is the planning-chat exchange that asked for them, which is
    where the proposal shows and what an accepted change links back to.
    """

    class Kind(models.TextChoices):
        CHANGES = "changes", "Suggested changes"
        BREAKDOWN = "breakdown", "Task breakdown"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="proposals", db_column="projectId")
    chat = models.ForeignKey("chat.ChatHistory", on_delete=models.CASCADE, related_name="proposals", db_column="chatId")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    summary = models.TextField(blank=True)
    model_name = models.CharField(max_length=100, blank=True, db_column="model")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")

    objects = ProposalQuerySet.as_manager()

    class Meta:
        db_table = "proposals"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.project_id}"


class ProposalChange(models.Model):
    """One proposed addition, change or removal of a task, and what the user decided."""

    class Action(models.TextChoices):
        ADD = "add", "Add"
        CHANGE = "change", "Change"
        REMOVE = "remove", "Remove"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="changes", db_column="proposalId")
    position = models.PositiveIntegerField(default=0)
    action = models.CharField(max_length=8, choices=Action.choices)
    #: The task changed or removed; for an accepted addition, the task it created.
    task = models.ForeignKey(
        Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_column="taskId"
    )
    task_title = models.CharField(max_length=200, blank=True, db_column="taskTitle")
    #: The proposed values, by the API's field names; ``before`` holds the task's values for them.
    fields = models.JSONField(default=dict)
    before = models.JSONField(default=dict)
    #: The task's ``updatedAt`` when proposed: an edit since makes the change stale.
    task_updated_at = models.DateTimeField(null=True, blank=True, db_column="taskUpdatedAt")
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True, db_column="decidedAt")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_column="decidedBy",
    )

    class Meta:
        db_table = "proposalchanges"
        ordering = ["proposal", "position"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.label}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def label(self) -> str:
        """The task it is about: as it was called when proposed, or the title proposed for it."""
        return self.task_title or self.fields.get("title", "")

    @property
    def is_stale(self) -> bool:
        """A pending change or removal whose task was edited (or deleted) after the proposal."""
        if not self.is_pending or self.action == self.Action.ADD:
            return False
        return self.task is None or self.task.updated_at != self.task_updated_at

    def differences(self) -> list[tuple[str, object, object]]:
        """(field, from, to) for each proposed value of a change."""
        return [(name, self.before.get(name), value) for name, value in self.fields.items()]
