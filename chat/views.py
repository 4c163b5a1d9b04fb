from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET


@require_GET
def planning(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "chat/chat.html", {})
