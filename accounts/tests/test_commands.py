import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_account_is_created_once_when_debug_is_on(settings, capsys):
    settings.DEBUG = True

    call_command("ensure_demo_user")
    call_command("ensure_demo_user")

    user = User.objects.get()
    assert user.email == "demo@example.com"
    assert user.check_password("demo-password")
    assert "demo@example.com / demo-password" in capsys.readouterr().out


def test_the_demo_account_is_never_created_when_debug_is_off(settings):
    settings.DEBUG = False

    call_command("ensure_demo_user")

    assert not User.objects.exists()


def test_create_api_token_for_an_unknown_email_fails_clearly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user with email 'nobody@example.com'"):
        call_command("create_api_token", "nobody@example.com")
