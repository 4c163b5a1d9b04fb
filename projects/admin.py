from django.contrib import admin

from projects.models import Project, ProjectDraft, Proposal, ProposalChange, Task


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
    readonly_fields = ["completed_at", "created_at", "updated_at", "source_chat", "source_model"]


class ProposalChangeInline(admin.TabularInline):
    model = ProposalChange
    extra = 0
    can_delete = False
    fields = ["action", "task_title", "fields", "before", "reason", "status", "decided_by", "decided_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """What the assistant proposed, and who accepted or rejected each change, when."""

    list_display = ["project", "kind", "model_name", "created_at"]
    list_filter = ["kind", "model_name"]
    search_fields = ["project__name", "summary"]
    list_select_related = ["project"]
    raw_id_fields = ["project", "chat"]
    readonly_fields = ["project", "chat", "kind", "summary", "model_name", "created_at"]
    inlines = [ProposalChangeInline]


@admin.register(ProposalChange)
class ProposalChangeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "action", "status", "decided_by", "decided_at", "proposal"]
    list_filter = ["status", "action"]
    search_fields = ["task_title", "reason"]
    list_select_related = ["proposal", "decided_by"]
    readonly_fields = [field.name for field in ProposalChange._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ProjectDraft)
class ProjectDraftAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "updated_at"]
    search_fields = ["owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at", "updated_at", "drafted_through"]
