"""The daily token budget per user: counted from the saved replies, refused with when it resets."""

import datetime
import html

import pytest
from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from accounts.models import ApiToken
from chat.models import ChatHistory
from chat.tests.helpers import wait_until_settled
from tests.factories import HTMX, ChatHistoryFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def budget(settings):
    settings.CHAT_TOKEN_BUDGET_DAILY = 1000
    return 1000


def spent(user, prompt: int, response: int, **fields) -> ChatHistory:
    return ChatHistoryFactory(user=user, prompt_tokens=prompt, response_tokens=response, **fields)


def test_a_user_over_the_budget_is_refused_with_when_it_resets_and_nothing_is_saved(client, budget):
    user = UserFactory()
    spent(user, 700, 200)
    spent(user, 90, 10)  # exactly the budget
    client.force_login(user)

    response = client.post("/chat/send/", {"message": "One more question"}, headers=HTMX)

    assert response.status_code == 429
    text = html.unescape(response.content.decode())
    assert "today's assistant budget (1,000 of 1,000 tokens)" in text
    assert "resets at midnight UTC, in" in text
    now = timezone.now().astimezone(datetime.UTC)
    midnight = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(int(response["Retry-After"]) - (midnight - now).total_seconds()) < 5
    assert response["HX-Retarget"] == "#composer-error"  # the message stays in the box
    assert ChatHistory.objects.filter(message="One more question").count() == 0


def test_another_user_and_yesterdays_use_are_not_counted(client, budget):
    heavy = UserFactory()
    spent(heavy, 5000, 5000)
    user = UserFactory()
    spent(user, 5000, 5000, created_at=timezone.now() - datetime.timedelta(days=1, hours=1))
    spent(user, 400, 100)
    client.force_login(user)

    response = client.post("/chat/send/", {"message": "Still within it"}, headers=HTMX)

    assert response.status_code == 200
    wait_until_settled(ChatHistory.objects.get(message="Still within it"))


def test_retry_counts_against_the_budget_too(client, budget):
    user = UserFactory()
    failed = spent(user, 990, 20, status=ChatHistory.Status.FAILED, error_kind="unavailable")
    client.force_login(user)

    response = client.post(f"/chat/{failed.pk}/retry/", headers=HTMX)

    assert "today's assistant budget" in response["HX-Trigger"]
    failed.refresh_from_db()
    assert failed.status == ChatHistory.Status.FAILED


def test_the_api_refuses_with_429_and_retry_after(client, budget):
    user = UserFactory()
    spent(user, 1000, 1)
    _, raw = ApiToken.issue(user=user, name="cli")

    response = client.post(
        "/api/chat/send",
        {"message": "Hi"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )

    assert response.status_code == 429
    assert "resets at midnight UTC" in response.json()["error"]
    assert int(response["Retry-After"]) > 0


def test_no_budget_means_no_limit(client, settings):
    settings.CHAT_TOKEN_BUDGET_DAILY = 0
    user = UserFactory()
    spent(user, 10**6, 10**6)
    client.force_login(user)
    assert client.post("/chat/send/", {"message": "Hi"}, headers=HTMX).status_code == 200
    wait_until_settled(ChatHistory.objects.get(message="Hi"))


def test_staff_see_each_users_use_on_their_admin_page(budget):
    user = UserFactory()
    spent(user, 300, 45)
    spent(user, 1000, 0, created_at=timezone.now() - datetime.timedelta(days=3))
    spent(UserFactory(), 5000, 0)
    user_admin = admin.site._registry[type(user)]

    assert user_admin.tokens_today(user) == "345 of 1,000 (the daily budget)"
    assert user_admin.tokens_last_30_days(user) == "1,345"


@pytest.mark.skipif(
    settings.USING_MONGODB,
    reason="the user page's permission widget joins permissions to content types, which SecantusDB returns empty",
)
@pytest.mark.django_db
def test_the_users_admin_page_shows_their_use(client, budget):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory()
    spent(user, 300, 45)
    client.force_login(staff)

    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert "Model tokens today (UTC)" in page and "345 of 1,000 (the daily budget)" in page
