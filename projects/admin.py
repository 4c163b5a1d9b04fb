from django.contrib import admin

from projects.models import Project, Task


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["title", "status", "priority", "due_date", "estimate_hours", "position"]
    ordering = ["position", "created_at"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "status", "priority", "start_date", "due_date", "archived_at", "updated_at"]
    list_filter = ["status", "priority", ("archived_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "description", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    inlines = [TaskInline]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "status", "priority", "due_date", "estimate_hours", "updated_at"]
    list_filter = ["status", "priority"]
    search_fields = ["title", "description", "project__name"]
    list_select_related = ["project"]
    raw_id_fields = ["project"]
    readonly_fields = ["completed_at", "created_at", "updated_at"]
