from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from projects.models import Project


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.owned_by(request.user).active()
    return TemplateResponse(request, "projects/dashboard.html", {"projects": projects})


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    projects = Project.objects.owned_by(request.user)
    return TemplateResponse(request, "projects/project_list.html", {"projects": projects})


@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "projects/project_list.html", {"projects": []})
