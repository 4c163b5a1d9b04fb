from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/", views.dashboard),
    path("projects/", views.project_list, name="list"),
    path("projects/new/", views.project_new, name="new"),
    path("projects/new/blank/", views.project_create, name="create"),
    path("projects/drafts/", views.draft_start, name="draft-start"),
    path("projects/drafts/<str:pk>/", views.draft_detail, name="draft"),
    path("projects/drafts/<str:pk>/refresh/", views.draft_refresh, name="draft-refresh"),
    path("projects/drafts/<str:pk>/discard/", views.draft_discard, name="draft-discard"),
    path("projects/<str:pk>/", views.project_detail, name="detail"),
    path("projects/<str:pk>/edit/", views.project_edit, name="edit"),
    path("projects/<str:pk>/archive/", views.project_archive, name="archive"),
    path("projects/<str:pk>/delete/", views.project_delete, name="delete"),
    path("projects/<str:pk>/tasks/", views.task_region, name="tasks"),
    path("projects/<str:pk>/tasks/new/", views.task_create, name="task-create"),
    path("projects/<str:pk>/tasks/view/", views.task_view, name="task-view"),
    path("projects/<str:pk>/tasks/<str:task_pk>/edit/", views.task_edit, name="task-edit"),
    path("projects/<str:pk>/tasks/<str:task_pk>/delete/", views.task_delete, name="task-delete"),
    path("projects/<str:pk>/tasks/<str:task_pk>/status/", views.task_status, name="task-status"),
    path("projects/<str:pk>/tasks/<str:task_pk>/move/", views.task_move, name="task-move"),
    path("projects/<str:pk>/proposals/", views.proposal_create, name="proposal-create"),
    path("projects/<str:pk>/proposals/<str:proposal_pk>/", views.proposal_decide, name="proposal"),
    path(
        "projects/<str:pk>/proposals/<str:proposal_pk>/changes/<str:change_pk>/",
        views.proposal_change_decide,
        name="proposal-change",
    ),
]
