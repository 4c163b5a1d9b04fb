from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.planning, name="planning"),
    path("send/", views.send, name="send"),
    path("clear/", views.clear, name="clear"),
    path("export/", views.export, name="export"),
    path("assistant/", views.assistant, name="assistant"),
    path("<str:pk>/", views.show, name="show"),
    path("<str:pk>/reply/", views.reply, name="reply"),
    path("<str:pk>/stream/", views.stream, name="stream"),
    path("<str:pk>/stop/", views.stop, name="stop"),
    path("<str:pk>/retry/", views.retry, name="retry"),
    path("<str:pk>/continue/", views.continue_reply, name="continue"),
]
