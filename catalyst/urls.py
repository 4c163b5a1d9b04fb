from django.contrib import admin
from django.urls import include, path

from catalyst.api import api
from catalyst.metrics import metrics_view
from catalyst.usage import usage

admin.site.site_header = "Project Catalyst administration"
admin.site.site_title = "Project Catalyst admin"
admin.site.index_template = "admin/catalyst_index.html"

urlpatterns = [
    path("", include("projects.urls")),
    path("accounts/", include("accounts.urls")),
    path("chat/", include("chat.urls")),
    path("projects/<str:pk>/chat/", include("chat.project_urls")),
    path("admin/usage/", admin.site.admin_view(usage), name="admin-usage"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("metrics", metrics_view, name="metrics"),
]

handler404 = "catalyst.views.not_found"
