"""Every date, number and id the chat reads from a request: extremes answer 4xx, never 500."""

import pytest

from tests.factories import ChatHistoryFactory, ProjectFactory

pytestmark = pytest.mark.django_db

EXTREME_MOMENTS = [
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59.999999-00:01",
    "2025-13-45T00:00",
    "9999-12-31T23:59:59+99:00",
    "nonsense",
    "1" * 400,
    "2026-01-01T25:00",
]
EXTREME_KEYS = ["", "abc", "-1", "9" * 30, "-" + "9" * 30, "1e400", "0x10", "64f1c0ffee0ddba11deadbee"]


@pytest.fixture
def user(user):
    """The signed-in user, with a chat."""
    ChatHistoryFactory(user=user)
    return user


@pytest.fixture
def chat_urls(user):
    project = ProjectFactory(owner=user)
    ChatHistoryFactory(user=user, project=project)
    return ["/chat/", f"/projects/{project.pk}/chat/"]


@pytest.mark.parametrize("before", EXTREME_MOMENTS)
@pytest.mark.parametrize("htmx", [False, True])
def test_an_impossible_before_moment_answers_400(client, chat_urls, before, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    for url in chat_urls:
        for before_id in ("", "1", "9" * 30):
            response = client.get(url, {"before": before, "before_id": before_id}, headers=headers)
            assert response.status_code == 400, (url, before, before_id)


@pytest.mark.parametrize("before_id", EXTREME_KEYS)
def test_any_before_id_answers_200_or_400(client, chat_urls, before_id):
    for url in chat_urls:
        response = client.get(url, {"before": "2030-01-01T00:00:00Z", "before_id": before_id})
        assert response.status_code in (200, 400), (url, before_id)


@pytest.mark.parametrize("key", EXTREME_KEYS[1:])
def test_an_impossible_id_in_a_path_answers_404(client, user, key):
    for url in (f"/projects/{key}/chat/", f"/chat/{key}/stream/", f"/projects/{key}/"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("limit", ["9" * 25, "-" + "9" * 25, "0", "-1", "1e9", "abc", "1.5"])
def test_any_history_limit_answers_200_or_400(client, user, bearer, limit):
    response = client.get(f"/api/chat/history/{user.pk}", {"limit": limit}, headers=bearer)

    assert response.status_code in (200, 400), limit
    assert response.json()["success"] is (response.status_code == 200)
