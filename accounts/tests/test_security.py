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


# --- Password reset ---------------------------------------------------------------


def _reset(client, email, **headers):
    return client.post(reverse("accounts:password-reset"), {"email": email}, headers=headers)


def test_reset_mail_is_throttled_per_address_in_any_spelling(client, settings, mailoutbox):
    settings.PASSWORD_RESET_LIMIT = 3
    UserFactory(email="victim@example.com")

    answers = [_reset(client, spelling).status_code for spelling in SPELLINGS[:5]]

    assert answers == [302, 302, 302, 429, 429]
    assert len(mailoutbox) == 3


def test_a_throttled_reset_says_when_to_try_and_keeps_the_address(client, settings):
    settings.PASSWORD_RESET_LIMIT = 1
    _reset(client, "nobody@example.com")

    response = _reset(client, "nobody@example.com")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert "Too many reset requests. Try again in" in page
    assert 'value="nobody@example.com"' in page


def test_reset_mail_is_throttled_per_client_across_addresses(client, settings, mailoutbox):
    settings.PASSWORD_RESET_CLIENT_LIMIT = 4
    for n in range(6):
        UserFactory(email=f"person{n}@example.com")

    answers = [_reset(client, f"person{n}@example.com").status_code for n in range(6)]

    assert answers == [302] * 4 + [429] * 2
    assert len(mailoutbox) == 4


def test_another_client_can_still_reset_while_one_is_throttled(client, settings, mailoutbox):
    settings.PASSWORD_RESET_CLIENT_LIMIT = 1
    UserFactory(email="ada@example.com")
    _reset(client, "ada@example.com", REMOTE_ADDR="198.51.100.1")

    response = client.post(reverse("accounts:password-reset"), {"email": "ada@example.com"}, REMOTE_ADDR="198.51.100.2")

    assert response.status_code == 302
    assert len(mailoutbox) == 2


# --- Sign-up ----------------------------------------------------------------------


def test_sign_up_attempts_are_limited_per_client(client, settings):
    settings.SIGNUP_LIMIT = 3
    UserFactory(email="taken@example.com")
    data = {"name": "X", "password1": "compilers-are-fun-1952", "password2": "compilers-are-fun-1952"}

    def sign_up(email, address="192.0.2.1"):
        return client.post(reverse("accounts:signup"), {**data, "email": email}, REMOTE_ADDR=address)

    probes = [sign_up("taken@example.com").status_code for _ in range(3)]
    refused = sign_up("someone@example.com")

    assert probes == [400, 400, 400]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many sign-up attempts" in refused.content.decode()
    assert 'value="someone@example.com"' in refused.content.decode()
    assert sign_up("someone@example.com", address="192.0.2.2").status_code == 302


# --- API tokens -------------------------------------------------------------------


def _bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def owner(client):
    user = UserFactory(email="owner@example.com")
    client.force_login(user)
    return user


def _works(client, raw):
    """Whether ``raw`` alone authenticates (the session is left out)."""
    client.logout()
    return client.get("/api/account/me", headers=_bearer(raw)).status_code == 200


def test_a_password_change_revokes_the_api_tokens_and_says_so(client, owner):
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user=owner, name="Laptop")
    _, other_raw = ApiToken.issue(user=UserFactory(), name="Someone else's")

    response = client.post(
        reverse("accounts:password-change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-brand-new-secret-77",
            "new_password2": "a-brand-new-secret-77",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert "Your API token was revoked" in response.content.decode()
    assert not _works(client, raw)
    assert _works(client, other_raw)


def test_a_password_reset_revokes_the_api_tokens(client, owner, mailoutbox):
    import re

    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user=owner, name="Laptop")
    client.logout()
    _reset(client, "owner@example.com")
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    new = {"new_password1": "a-brand-new-secret-77", "new_password2": "a-brand-new-secret-77"}

    response = client.post(form_page.redirect_chain[-1][0], new, follow=True)

    assert "Your password has been set" in response.content.decode()
    assert not _works(client, raw)


def test_an_email_change_revokes_the_api_tokens_and_says_so(client, owner):
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user=owner, name="Laptop")

    response = client.post(reverse("accounts:profile"), {"name": "Owner", "email": "new@example.com"}, follow=True)

    assert "Your API token was revoked" in response.content.decode()
    assert not _works(client, raw)


def test_a_name_change_keeps_the_api_tokens(client, owner):
    from accounts.models import ApiToken

    _, raw = ApiToken.issue(user=owner, name="Laptop")

    response = client.post(reverse("accounts:profile"), {"name": "New name", "email": "owner@example.com"}, follow=True)

    assert "revoked" not in response.content.decode()
    assert _works(client, raw)


def test_deactivating_an_account_deletes_its_tokens(owner):
    from accounts.models import ApiToken, User

    ApiToken.issue(user=owner, name="Laptop")
    user = User.objects.get(pk=owner.pk)

    user.is_active = False
    user.save()

    assert not ApiToken.objects.owned_by(owner).exists()


def test_a_new_token_is_shown_once_and_never_sent_in_a_header(client, owner):
    created = client.post("/accounts/profile/tokens/", {"token-name": "Laptop"})
    shown = client.get(created["Location"])

    raw = shown.context["new_token"]["key"]
    for response in (created, shown):
        headers = "\n".join(f"{name}: {value}" for name, value in response.items())
        headers += "\n" + "\n".join(morsel.OutputString() for morsel in response.cookies.values())
        assert raw not in headers
    assert shown["Cache-Control"] == "no-store"
    assert raw not in client.get("/accounts/profile/").content.decode()
