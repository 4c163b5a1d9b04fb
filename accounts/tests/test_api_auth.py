import pytest
from django.core.management import call_command

from accounts.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def test_health_needs_no_login_and_reports_the_database(client):
    response = client.get("/api/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_anonymous_api_calls_get_401_in_the_error_shape(client):
    response = client.get("/api/account/me")

    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "error": "Authentication required: log in or send a valid API token.",
    }


def test_unknown_api_paths_answer_404_in_the_error_shape(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Not found."}


def test_a_bearer_token_authenticates_and_records_its_use(client):
    user = UserFactory(email="ada@example.com")
    token, raw = ApiToken.issue(user=user, name="script")

    response = client.get("/api/account/me", headers=bearer(raw))

    assert response.status_code == 200
    assert response.json()["data"]["email"] == "ada@example.com"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_tokens_are_stored_only_as_hashes(client):
    token, raw = ApiToken.issue(user=UserFactory(), name="script")

    assert raw not in (token.key_hash, token.key_prefix)
    assert not ApiToken.objects.filter(key_hash=raw).exists()


@pytest.mark.parametrize("raw", ["cat_wrong", "nonsense", ""])
def test_a_wrong_token_gets_401(client, raw):
    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 401


def test_a_revoked_token_stops_working_at_once(client):
    user = UserFactory()
    token, raw = ApiToken.issue(user=user, name="script")
    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 200
    client.force_login(user)

    client.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    client.logout()

    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 401


def test_a_token_of_a_deactivated_user_stops_working(client):
    user = UserFactory()
    _, raw = ApiToken.issue(user=user, name="script")
    user.is_active = False
    user.save()

    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 401


def test_the_session_authenticates_api_reads(client):
    client.force_login(UserFactory(email="ada@example.com"))

    assert client.get("/api/account/me").json()["data"]["email"] == "ada@example.com"


def test_the_profile_page_shows_a_new_token_once(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post("/accounts/profile/tokens/", {"token-name": "Laptop"}, follow=True)

    raw = response.context["new_token"]["key"]
    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert raw.startswith("cat_") and raw in response.content.decode()
    assert raw not in client.get("/accounts/profile/").content.decode()
    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 200


def test_a_token_cannot_be_revoked_by_another_user(client):
    token, _ = ApiToken.issue(user=UserFactory(), name="theirs")
    client.force_login(UserFactory())

    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_create_api_token_command_prints_a_working_token_once(client, capsys):
    UserFactory(email="ada@example.com")

    call_command("create_api_token", "ada@example.com", "--name", "CI")

    raw = capsys.readouterr().out.strip()
    assert client.get("/api/account/me", headers=bearer(raw)).status_code == 200
    assert ApiToken.objects.get().name == "CI"


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")

    assert schema.status_code == 200
    assert "/api/health" in schema.json()["paths"]
    assert client.get("/api/docs").status_code == 200


@pytest.mark.parametrize("pk", ["abc", "1.5", "9" * 30])
def test_revoking_a_malformed_token_id_answers_404(client, pk):
    client.force_login(UserFactory())

    assert client.post(f"/accounts/profile/tokens/{pk}/revoke/").status_code == 404
