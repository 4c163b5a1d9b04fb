from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API paths answer 404 in the API's error shape; pages get the 404 page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"success": False, "error": "Not found."}, status=404)
    return page_not_found(request, exception)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post explains itself; an API call gets the error shape."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"success": False, "error": "CSRF check failed."}, status=403)
    return render(request, "403_csrf.html", status=403)
