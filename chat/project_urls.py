"""The planning chat of one project, mounted at ``projects/<pk>/chat/``."""

from django.urls import path

from chat import views

app_name = "project-chat"

urlpatterns = [
    path("", views.project_chat, name="page"),
]
