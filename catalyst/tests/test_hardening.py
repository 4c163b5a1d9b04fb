"""The deployment checklist: headers on every kind of response, session lifetimes, `check --deploy`."""

import os
import secrets
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from accounts.middleware import RENEWED_AT, SIGNED_IN_AT
from chat.models import ChatHistory
from tests.factories import ChatHistoryFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERY_RESPONSE = {
    "Content-Security-Policy": django_settings.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def test_the_policy_allows_no_inline_script_and_no_eval():
    policy = dict(part.strip().split(" ", 1) for part in django_settings.CONTENT_SECURITY_POLICY.split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html"),
        ("/api/health", "application/json"),
        ("/static/css/app.css", "text/css"),
        ("/accounts/login/", "text/html"),
        ("/no/such/page/", "text/html"),
    ],
)
def test_every_kind_of_response_carries_the_headers(client, user, settings, path, content_type):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_SSL_REDIRECT = False
    # The static files from their source folders, as under DEBUG: a fresh clone has not collected them.
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True

    response = client.get(path, secure=True)

    assert response["Content-Type"].startswith(content_type)
    for name, value in EVERY_RESPONSE.items():
        assert response[name] == value, (path, name)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    if content_type == "text/html":
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db(transaction=True)
def test_an_event_stream_carries_the_headers_too(client, user, quick_chat):
    chat = ChatHistoryFactory(user=user, status=ChatHistory.Status.COMPLETE)
    response = client.get(f"/chat/{chat.pk}/stream/")
    assert response["Content-Type"].startswith("text/event-stream")
    for name, value in EVERY_RESPONSE.items():
        assert response[name] == value, name
    b"".join(response.streaming_content)


def test_plain_http_is_sent_to_https_but_the_probes_are_not(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/api/health").status_code == 200


def test_a_session_past_its_lifetime_is_signed_out(client, user, settings):
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SESSION_MAX_LIFETIME - 1
    session.save()

    response = client.get("/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_an_event_stream_with_a_session_past_its_lifetime_is_refused(client, user, settings, quick_chat):
    chat = ChatHistoryFactory(user=user)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SESSION_MAX_LIFETIME - 1
    session.save()

    response = client.get(f"/chat/{chat.pk}/stream/")

    assert response.status_code == 302


def test_signing_in_starts_the_lifetime_and_activity_renews_the_idle_timeout_now_and_then(client, settings):
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.email, "password": "correct-horse-battery-staple"})
    signed_in_at = client.session[SIGNED_IN_AT]
    assert abs(signed_in_at - time.time()) < 5

    # A request soon after does not write the session again...
    assert "sessionid" not in client.get("/").cookies
    # ...one after the renewal interval does, which moves its expiry (the idle timeout) on.
    session = client.session
    session[RENEWED_AT] = int(time.time()) - settings.SESSION_RENEW_INTERVAL - 1
    session.save()
    response = client.get("/")
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    assert client.session[SIGNED_IN_AT] == signed_in_at


def test_the_deployment_check_is_clean_with_production_settings(tmp_path):
    # Production as its operator sets it: none of the test run's own relaxations.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "catalyst.example",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "catalyst.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
