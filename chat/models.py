import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone

from projects.models import ProjectLinkedQuerySet, Proposal


class ChatHistoryQuerySet(ProjectLinkedQuerySet):
    def owned_by(self, user) -> "ChatHistoryQuerySet":
        return self.filter(user=user)

    def planning(self) -> "ChatHistoryQuerySet":
        """Conversations that plan projects: all but the navigation assistant's quick questions."""
        return self.exclude(chat_type=ChatHistory.ChatType.NAVIGATION)

    def in_chat(self, *, chat_type: str, project=None, draft=None) -> "ChatHistoryQuerySet":
        """One conversation: a chat type, in one project or in none, and for one project draft."""
        records = self.filter(chat_type=chat_type)
        records = records.filter(project__isnull=True) if project is None else records.filter(project=project)
        return records if draft is None else records.filter(draft=draft)

    def pending(self) -> "ChatHistoryQuerySet":
        return self.filter(status=ChatHistory.Status.PENDING)

    def before(self, moment: datetime.datetime, pk=None) -> "ChatHistoryQuerySet":
        """Records older than ``moment``; with ``pk``, also those at ``moment`` ordered before it."""
        if pk is None:
            return self.filter(created_at__lt=moment)
        return self.filter(models.Q(created_at__lt=moment) | models.Q(created_at=moment, pk__lt=pk))

    def newest_first(self) -> "ChatHistoryQuerySet":
        # Ties on created_at (imported records share them) are broken by key, so no page skips any.
        return self.order_by("-created_at", "-pk")

    def page(
        self, size: int, *, before: datetime.datetime | None = None, before_pk=None
    ) -> tuple[list["ChatHistory"], bool]:
        """A page of records in one query: the newest ``size``, oldest first, and whether earlier ones exist.

        With ``before`` (and ``before_pk``) the page ends just before that moment, as ``before()`` reads it.
        """
        records = self if before is None else self.before(before, pk=before_pk)
        page = list(records.newest_first()[: size + 1])
        return page[:size][::-1], len(page) > size

    def next_after(self, chat: "ChatHistory") -> "ChatHistory | None":
        """The record just after ``chat`` in the conversation's order; None when ``chat`` is the newest."""
        later = models.Q(created_at__gt=chat.created_at) | models.Q(created_at=chat.created_at, pk__gt=chat.pk)
        return self.filter(later).order_by("created_at", "pk").first()

    def with_proposals(self) -> "ChatHistoryQuerySet":
        """With the proposals made in each exchange, their changes and the changes' tasks."""
        return self.prefetch_related(models.Prefetch("proposals", Proposal.objects.with_changes()))

    def tokens_used(self) -> int:
        """Model tokens in and out of these records' replies (reported or estimated)."""
        totals = self.aggregate(prompt=models.Sum("prompt_tokens"), response=models.Sum("response_tokens"))
        return (totals["prompt"] or 0) + (totals["response"] or 0)

    def matching(self, text: str) -> "ChatHistoryQuerySet":
        return self.filter(models.Q(message__icontains=text) | models.Q(response__icontains=text))

    # Every move of a reply between statuses is one of these; each moves only
    # from the states it allows, so two workers can never both win.

    async def aprogress_save(self, text: str) -> int:
        """Write the growing text of pending replies; 0 when none is pending any more."""
        return await self.pending().aupdate(response=text, updated_at=timezone.now())

    def settle(self, outcome: "Outcome", **fields) -> int:
        """Finish pending replies with ``outcome`` (and ``fields`` such as the text)."""
        return self.pending().update(**outcome.fields(), **fields)

    async def asettle(self, outcome: "Outcome", **fields) -> int:
        return await self.pending().aupdate(**outcome.fields(), **fields)

    def reopen(self, *, allowed: tuple[str, ...], response: str, provider: str, model_name: str) -> int:
        """Move replies back to pending for a retry or continue, from ``allowed`` states only."""
        return self.filter(status__in=allowed).update(
            status=ChatHistory.Status.PENDING,
            response=response,
            error="",
            error_kind="",
            provider=provider,
            model_name=model_name,
            updated_at=timezone.now(),
        )


class ChatHistory(models.Model):
    """One exchange: the user's message and the assistant's reply."""

    class ChatType(models.TextChoices):
        PROJECT_PLANNING = "project-planning", "Project planning"
        NAVIGATION = "navigation", "Navigation"
        NEW_PROJECT = "new-project", "New project"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETE = "complete", "Complete"
        INTERRUPTED = "interrupted", "Interrupted"
        FAILED = "failed", "Failed"

    class ErrorKind(models.TextChoices):
        """Why a reply is interrupted or failed; each reads differently in the UI."""

        STOPPED = "stopped", "Stopped"
        CUT = "cut", "Connection dropped"
        OUTPUT_LIMIT = "output_limit", "Output limit reached"
        LOST = "lost", "Server restarted"
        RATE_LIMITED = "rate_limited", "Rate limited"
        SAFETY = "safety", "Blocked for safety"
        UNAVAILABLE = "unavailable", "Assistant unreachable"
        MISCONFIGURED = "misconfigured", "Assistant misconfigured"
        EMPTY = "empty", "Empty reply"

    MESSAGE_MAX_LENGTH = 8000
    # Far beyond the longest reply a model writes; bounds what /api/chat/save stores.
    RESPONSE_MAX_LENGTH = 200_000
    PAGE_MAX_LENGTH = 500

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats", db_column="userId"
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chats",
        db_column="projectId",
    )
    #: The project draft a ``new-project`` conversation is planning.
    draft = models.ForeignKey(
        "projects.ProjectDraft",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chats",
        db_column="draftId",
    )
    #: The path of the page a ``navigation`` question was asked on: it tells the assistant where the user is.
    page = models.CharField(max_length=PAGE_MAX_LENGTH, blank=True)
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH, validators=[ProhibitNullCharactersValidator()])
    response = models.TextField(
        max_length=RESPONSE_MAX_LENGTH, blank=True, validators=[ProhibitNullCharactersValidator()]
    )
    chat_type = models.CharField(
        max_length=20, choices=ChatType.choices, default=ChatType.PROJECT_PLANNING, db_column="chatType"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETE)
    #: Which provider (``AI_PROVIDERS``) and model wrote the reply.
    provider = models.CharField(max_length=20, blank=True)
    model_name = models.CharField(max_length=100, blank=True, db_column="model")
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=20, choices=ErrorKind.choices, blank=True, db_column="errorKind")
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True, db_column="promptTokens")
    response_tokens = models.PositiveIntegerField(null=True, blank=True, db_column="responseTokens")
    #: The server reported no usage: the token counts are an estimate.
    tokens_estimated = models.BooleanField(default=False, db_column="tokensEstimated")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = ChatHistoryQuerySet.as_manager()

    class Meta:
        db_table = "chathistories"
        ordering = ["created_at"]
        verbose_name = "chat history"
        verbose_name_plural = "chat histories"
        # One conversation (user, type, project) read newest first: the page, its count, the history API.
        indexes = [
            models.Index(fields=["user", "chat_type", "project", "created_at"], name="chat_conversation_created")
        ]

    def __str__(self) -> str:
        return self.message[:60]

    def clean(self) -> None:
        super().clean()
        self.message = self.message.strip()
        if not self.message:
            raise ValidationError({"message": "Write a message first."})
        if len(self.message) > self.MESSAGE_MAX_LENGTH:
            raise ValidationError(
                {
                    "message": f"Your message is {len(self.message):,} characters long; "
                    f"the limit is {self.MESSAGE_MAX_LENGTH:,}. Shorten it or split it into parts."
                }
            )

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.response_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.response_tokens or 0)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def can_continue(self) -> bool:
        return self.status == self.Status.INTERRUPTED and bool(self.response)

    @property
    def can_retry(self) -> bool:
        return self.status in (self.Status.INTERRUPTED, self.Status.FAILED)


@dataclass(frozen=True)
class Outcome:
    """How a reply ended: its status, and for users the kind and words of any trouble."""

    status: str
    error: str = ""
    error_kind: str = ""

    def fields(self) -> dict:
        return {"status": self.status, "error": self.error, "error_kind": self.error_kind, "updated_at": timezone.now()}

    @classmethod
    def complete(cls) -> "Outcome":
        return cls(ChatHistory.Status.COMPLETE)

    @classmethod
    def stopped(cls) -> "Outcome":
        return cls(ChatHistory.Status.INTERRUPTED, "You stopped this reply.", ChatHistory.ErrorKind.STOPPED)

    @classmethod
    def lost(cls) -> "Outcome":
        return cls(
            ChatHistory.Status.INTERRUPTED,
            "The server restarted before this reply was finished. Continue to pick it up.",
            ChatHistory.ErrorKind.LOST,
        )

    @classmethod
    def crashed(cls) -> "Outcome":
        return cls(
            ChatHistory.Status.FAILED,
            "Something went wrong while writing this reply. Retry in a moment.",
            ChatHistory.ErrorKind.UNAVAILABLE,
        )

    @classmethod
    def provider_failed(cls, *, message: str, kind: str, interrupts: bool, kept_text: bool) -> "Outcome":
        """A model's failure: text already written is kept as interrupted where the failure allows."""
        status = ChatHistory.Status.INTERRUPTED if interrupts and kept_text else ChatHistory.Status.FAILED
        return cls(status, message, kind)
