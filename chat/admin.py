from django.contrib import admin
from django.template.defaultfilters import truncatechars

from chat.models import ChatHistory


@admin.register(ChatHistory)
class ChatHistoryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "user",
        "chat_type",
        "status",
        "short_message",
        "project",
        "provider",
        "model_name",
        "total_tokens",
    ]
    list_filter = ["chat_type", "status", "error_kind", "provider", "model_name"]
    search_fields = ["message", "response", "user__email"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at", "prompt_tokens", "response_tokens", "tokens_estimated"]
    fieldsets = [
        (None, {"fields": ["user", "project", "chat_type", "status"]}),
        ("Exchange", {"fields": ["message", "response", "error_kind", "error"]}),
        ("Model", {"fields": ["provider", "model_name", "prompt_tokens", "response_tokens", "tokens_estimated"]}),
        ("Dates", {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description="Message")
    def short_message(self, obj: ChatHistory) -> str:
        return truncatechars(obj.message, 80)
