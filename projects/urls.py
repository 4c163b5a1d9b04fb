from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/", views.dashboard),
    path("projects/", views.project_list, name="list"),
    path("projects/new/", views.project_create, name="create"),
]
