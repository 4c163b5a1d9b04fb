import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_form_post_without_csrf_gets_a_friendly_403():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@example.com", "password": "x"})

    assert response.status_code == 403
    assert "Please try that again" in response.content.decode()


def test_an_unknown_page_gets_the_friendly_404(client):
    client.force_login(UserFactory())

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
