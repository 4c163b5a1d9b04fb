import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signup_data(**overrides):
    data = {
        "name": "Grace Hopper",
        "email": "grace@example.com",
        "password1": "compilers-are-fun-1952",
        "password2": "compilers-are-fun-1952",
    }
    return {**data, **overrides}


def test_sign_up_creates_an_argon2_hashed_account_and_logs_in(client):
    response = client.post(reverse("accounts:signup"), signup_data(email="Grace@Example.COM"))

    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "grace@example.com"
    assert user.password.startswith("argon2")
    assert client.get(reverse("projects:dashboard")).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"password1": "short", "password2": "short"}, "This password is too short."),
        ({"password2": "something-else-entirely"}, "The two password fields didn’t match."),
    ],
)
def test_sign_up_with_bad_input_answers_400_with_a_message(client, overrides, message):
    response = client.post(reverse("accounts:signup"), signup_data(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_with_a_taken_email_answers_400_whatever_its_case(client):
    UserFactory(email="grace@example.com")

    response = client.post(reverse("accounts:signup"), signup_data(email="GRACE@example.com"))

    assert response.status_code == 400
    assert "An account with this email already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_sign_up_keeps_what_was_typed_after_an_error(client):
    response = client.post(reverse("accounts:signup"), signup_data(password2="mismatch-here-0"))

    assert 'value="grace@example.com"' in response.content.decode()
    assert 'value="Grace Hopper"' in response.content.decode()


def test_log_in_by_email_is_case_insensitive(client):
    user = UserFactory(email="ada@example.com")

    response = client.post(reverse("accounts:login"), {"username": "ADA@example.com", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_answers_400_with_a_clear_message(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("accounts:login"), {"username": "ada@example.com", "password": "wrong"})

    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()


def test_repeated_failed_logins_lock_the_account_out_with_a_message(client, settings):
    UserFactory(email="ada@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("accounts:login"), {"username": "ada@example.com", "password": "wrong"})

    response = client.post(reverse("accounts:login"), {"username": "ada@example.com", "password": "wrong"})

    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post(reverse("accounts:login"), {"username": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/", "/dashboard/", "/projects/", "/chat/", "/accounts/profile/"])
def test_anonymous_visitors_are_sent_to_log_in_and_back(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={path}"


def test_log_in_returns_to_the_page_asked_for(client):
    UserFactory(email="ada@example.com")

    response = client.post(
        "/accounts/login/?next=/projects/",
        {"username": "ada@example.com", "password": DEFAULT_PASSWORD, "next": "/projects/"},
    )

    assert response.url == "/projects/"


def test_log_out_needs_a_post(client):
    client.force_login(UserFactory())

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_mails_a_working_link(client):
    user = UserFactory(email="ada@example.com")

    client.post(reverse("accounts:password-reset"), {"email": "ada@example.com"})

    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/password/reset/" in line)
    response = client.get(link.split("testserver", 1)[1], follow=True)
    new_password = "a-brand-new-password-77"
    response = client.post(
        response.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_change_with_a_wrong_old_password_answers_400(client):
    client.force_login(UserFactory())

    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": "nope", "new_password1": "fresh-password-42", "new_password2": "fresh-password-42"},
    )

    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()


def test_profile_updates_name_and_email(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), {"name": "New Name", "email": "new@example.com"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.name, user.email) == ("New Name", "new@example.com")


def test_profile_refuses_an_email_another_account_uses(client):
    UserFactory(email="taken@example.com")
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("accounts:profile"), {"name": "x", "email": "taken@example.com"})

    assert response.status_code == 400
    assert "Another account already uses this email" in response.content.decode()


def test_an_empty_sign_up_post_says_what_is_missing(client):
    response = client.post(reverse("accounts:signup"), {})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
