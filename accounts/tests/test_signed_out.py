"""An HTMX request from someone signed out: the page goes to the login page, and comes back."""

import json
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import HTMX

pytestmark = pytest.mark.django_db

PAGE = "/projects/7/"


def _page_routes(patterns=None, prefix=""):
    """(path, view) for every route of the pages (not the JSON API, the admin or static files)."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith(("api/", "admin/", "static/")):
                yield from _page_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            path = "/" + route.replace("^", "").replace("$", "")
            for name in pattern.pattern.converters if hasattr(pattern.pattern, "converters") else ():
                path = path.replace(f"<str:{name}>", "1").replace(f"<int:{name}>", "1")
            if "<" not in path and "(" not in path:
                yield path, pattern.callback


ROUTES = [(path, view) for path, view in _page_routes() if getattr(view, "login_required", True)]


def test_every_page_route_is_walked():
    paths = {path for path, _ in ROUTES}
    assert {"/chat/send/", "/projects/1/tasks/new/", "/projects/drafts/1/", "/projects/1/proposals/"} <= paths
    assert len(paths) > 30


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("path", "view"), ROUTES, ids=[path for path, _ in ROUTES])
def test_an_htmx_request_signed_out_sends_the_page_to_log_in_and_back(client, path, view, method):
    response = getattr(client, method)(path, headers={**HTMX, "HX-Current-URL": f"http://testserver{PAGE}"})

    assert response.status_code == 200, response.status_code
    assert response["HX-Redirect"] == f"/accounts/login/?next={quote(PAGE, safe='/')}"
    assert "signedOut" in json.loads(response["HX-Trigger"])
    assert b"<html" not in response.content


def test_without_htmx_it_is_the_usual_redirect(client):
    response = client.post("/chat/send/", {"message": "Hi"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/chat/send/"
