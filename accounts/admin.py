import datetime

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from accounts.models import ApiToken, User
from chat.models import ChatHistory
from chat.services import tokens_used_today


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "created_at", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    readonly_fields = ["created_at", "updated_at", "last_login", "tokens_today", "tokens_last_30_days"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name"]}),
        ("Assistant use", {"fields": ["tokens_today", "tokens_last_30_days"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]

    @admin.display(description="Model tokens today (UTC)")
    def tokens_today(self, user: User) -> str:
        used = tokens_used_today(user=user)
        budget = settings.CHAT_TOKEN_BUDGET_DAILY
        return f"{used:,} of {budget:,} (the daily budget)" if budget else f"{used:,} (no daily budget)"

    @admin.display(description="Model tokens, last 30 days")
    def tokens_last_30_days(self, user: User) -> str:
        since = timezone.now() - datetime.timedelta(days=30)
        return f"{ChatHistory.objects.owned_by(user).filter(created_at__gte=since).tokens_used():,}"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_prefix", "created_at", "last_used_at"]
    search_fields = ["name", "user__email", "key_prefix"]
    list_select_related = ["user"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    raw_id_fields = ["user"]

    def has_add_permission(self, request) -> bool:
        # A raw key is shown only to its owner, once; staff may revoke, not mint.
        return False
