"""What an outside security review found in accounts, each closed and kept closed."""

import pytest
from django.urls import reverse

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URLS = [reverse("accounts:login"), reverse("admin:login")]
SPELLINGS = [
    "victim@example.com",
    "VICTIM@example.com",
    "Victim@Example.com",
    " victim@example.com",
    "victim@EXAMPLE.COM ",
]


def _log_in(client, url, username, password, **headers):
    return client.post(url, {"username": username, "password": password}, headers=headers)


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_wrong_passwords_in_any_spelling_lock_every_spelling_out(client, settings, url):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com", is_staff=True)

    for spelling in SPELLINGS:
        _log_in(client, url, spelling, "wrong-guess")

    for spelling in SPELLINGS:
        response = _log_in(client, url, spelling, DEFAULT_PASSWORD)
        assert response.status_code == 429, spelling
    assert "_auth_user_id" not in client.session


def test_a_lock_out_counts_per_account_not_per_spelling_of_the_client(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    UserFactory(email="bystander@example.com")

    for spelling in SPELLINGS[:3]:
        _log_in(client, LOGIN_URLS[0], spelling, "wrong-guess")

    assert _log_in(client, LOGIN_URLS[0], "victim@example.com", DEFAULT_PASSWORD).status_code == 429
    assert _log_in(client, LOGIN_URLS[0], "bystander@example.com", DEFAULT_PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_give_fresh_guesses(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")

    for n in range(3):
        _log_in(client, LOGIN_URLS[0], "victim@example.com", "wrong", **{"X-Forwarded-For": f"203.0.113.{n}"})

    response = _log_in(
        client, LOGIN_URLS[0], "victim@example.com", DEFAULT_PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}
    )
    assert response.status_code == 429


def test_a_trusted_proxy_names_the_client(rf, settings):
    import ipaddress

    from catalyst.clients import client_address

    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]

    def address(remote, forwarded=None):
        headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
        return client_address(rf.get("/", REMOTE_ADDR=remote, **headers))

    # Only a trusted proxy's header counts, read from the right past our own proxies.
    assert address("198.51.100.1", "203.0.113.9") == "198.51.100.1"
    assert address("10.0.0.2", "203.0.113.9") == "203.0.113.9"
    assert address("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.3") == "203.0.113.9"
    assert address("10.0.0.2") == "10.0.0.2"
    assert address("10.0.0.2", "not-an-address, 10.0.0.5") == "not-an-address"
