from django.conf import settings
from django.db import models
from django.utils import timezone


class ChatHistoryQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ChatHistoryQuerySet":
        return self.filter(user=user)

    def of_type(self, chat_type: str) -> "ChatHistoryQuerySet":
        return self.filter(chat_type=chat_type)


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

    MESSAGE_MAX_LENGTH = 8000

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats", db_column="userId"
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chats",
        db_column="projectId",
    )
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    response = models.TextField(blank=True)
    chat_type = models.CharField(
        max_length=20, choices=ChatType.choices, default=ChatType.PROJECT_PLANNING, db_column="chatType"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COMPLETE)
    model_name = models.CharField(max_length=100, blank=True, db_column="model")
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True, db_column="promptTokens")
    response_tokens = models.PositiveIntegerField(null=True, blank=True, db_column="responseTokens")
    created_at = models.DateTimeField(default=timezone.now, db_column="createdAt")
    updated_at = models.DateTimeField(auto_now=True, db_column="updatedAt")

    objects = ChatHistoryQuerySet.as_manager()

    class Meta:
        db_table = "chathistories"
        ordering = ["created_at"]
        verbose_name = "chat history"
        verbose_name_plural = "chat histories"
        indexes = [models.Index(fields=["user", "chat_type", "created_at"], name="chat_user_type_created")]

    def __str__(self) -> str:
        return self.message[:60]

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.response_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.response_tokens or 0)
