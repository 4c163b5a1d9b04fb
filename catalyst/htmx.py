"""What every app's views share for answering HTMX requests."""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """Whether HTMX asks for part of a page; a boosted link or a history restore wants all of it."""
    return bool(request.htmx) and not (request.htmx.boosted or request.htmx.history_restore_request)


def fragment_or_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view that may answer HTMX with a fragment, and other requests with the page (or a redirect to it).

    Its answers vary on HX-Request, so no cache hands a fragment to a visit or
    the page to HTMX. Inside, ``wants_fragment()`` makes the choice where HTMX
    may also ask for the whole page.
    """

    @wraps(view)
    def answer(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        return response

    return answer


def with_toast(response: HttpResponse, message: str, level: str = "success") -> HttpResponse:
    """``response`` with a toast for the page to show (``static/js/app.js`` listens for the event)."""
    return trigger_client_event(response, "toast", {"message": message, "level": level})


def page_redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """Send the browser to ``url``: a whole-page load for HTMX, which would swap a plain redirect in place."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
