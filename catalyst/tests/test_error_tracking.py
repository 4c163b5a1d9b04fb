"""Error tracking: an unhandled error reaches Sentry (a fake one) without personal data; a handled 4xx does not.

The real sentry-sdk sends to ``tests/fake_sentry.py`` over HTTP, from requests
served by the site's ASGI application as uvicorn hands them over (the test
client skips the handler Sentry hooks into for an event's request data).
This module is also the tests' URLconf: the site's URLs plus one view that breaks.
"""

import asyncio
import uuid

import httpx
import pytest
import sentry_sdk
from django.conf import settings as django_settings
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_GET

from accounts.models import ApiToken
from catalyst.error_tracking import sentry_init
from catalyst.urls import urlpatterns as site_urlpatterns
from tests.factories import UserFactory
from tests.fake_sentry import FakeSentry

# The ASGI application does its database work in other threads, which see committed data only.
pytestmark = pytest.mark.django_db(transaction=True)


@require_GET
def broken(request):
    raise RuntimeError("the view broke")


urlpatterns = [path("test-only/broken/", broken, name="broken"), *site_urlpatterns]
handler404 = "catalyst.views.not_found"


@pytest.fixture
def fake_sentry(settings):
    """The SDK started as the settings start it, against a fake server; stopped and forgotten after."""
    server = FakeSentry().start()
    settings.ROOT_URLCONF = __name__
    sentry_init(dsn=server.dsn, environment="test", release="catalyst@test", traces_sample_rate=0.0)
    yield server
    sentry_sdk.get_client().close(timeout=2)
    # No client is left behind for the tests that follow in this process.
    sentry_sdk.get_global_scope().set_client(None)
    server.stop()


@pytest.fixture
def user():
    # Made here, not written beside the broken view: an event carries a few lines of its source.
    return UserFactory(email=f"ada.{uuid.uuid4().hex[:12]}@example.com")


def signed_in_session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def asgi_request(method: str, path: str, **kwargs) -> httpx.Response:
    """One request through the site's ASGI application, Sentry's hooks included."""
    from catalyst.asgi import application

    async def send():
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def test_sentry_is_off_without_a_dsn():
    assert django_settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


def test_an_unhandled_error_reaches_sentry_without_personal_data(fake_sentry, user):
    _, raw_token = ApiToken.issue(user=user, name="script")
    session_id = signed_in_session(user)
    csrf_token = uuid.uuid4().hex
    cookies = f"{django_settings.SESSION_COOKIE_NAME}={session_id}; {django_settings.CSRF_COOKIE_NAME}={csrf_token}"

    response = asgi_request(
        "GET",
        "/test-only/broken/?q=private-query",
        headers={
            "Authorization": f"Bearer {raw_token}",
            "Cookie": cookies,
            "X-CSRFToken": csrf_token,
            "User-Agent": "tests",
        },
    )
    sentry_sdk.flush(timeout=5)

    assert response.status_code == 500
    assert not sentry_sdk.get_client().should_send_default_pii()
    [event] = fake_sentry.events
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the view broke")
    assert event["environment"] == "test" and event["release"] == "catalyst@test"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    assert event["request"] == {
        "method": "GET",
        "url": "http://testserver/test-only/broken/",
        "headers": {"accept": "*/*", "user-agent": "tests"},
    }
    assert "user" not in event
    sent = b"".join(fake_sentry.raw).decode()
    for secret in (session_id, csrf_token, raw_token, user.email, "private-query"):
        assert secret not in sent, secret


def test_handled_client_errors_send_nothing(fake_sentry, user):
    _, raw_token = ApiToken.issue(user=user, name="script")
    session_id = signed_in_session(user)

    not_found = asgi_request(
        "GET", "/no-such-page/", headers={"Cookie": f"{django_settings.SESSION_COOKIE_NAME}={session_id}"}
    )
    bearer = {"Authorization": f"Bearer {raw_token}"}
    invalid = asgi_request("POST", "/api/chat/send", json={"chatType": "project-planning"}, headers=bearer)
    dates_disagree = {"name": "Rocket", "startDate": "2030-05-02", "dueDate": "2030-05-01"}
    unprocessable = asgi_request("POST", "/api/projects", json=dates_disagree, headers=bearer)
    unauthorised = asgi_request("GET", "/api/account/me")
    sentry_sdk.flush(timeout=5)

    statuses = [response.status_code for response in (not_found, invalid, unprocessable, unauthorised)]
    assert statuses == [404, 400, 422, 401]
    assert fake_sentry.events == []
