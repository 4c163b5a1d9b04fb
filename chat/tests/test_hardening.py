"""Bad input and races that once answered 500 or lost a reply."""

import datetime
import re

import pytest
from django.utils import timezone

from chat import generation, services
from chat.models import ChatHistory
from chat.tests.helpers import wait_until_settled
from tests.factories import ChatHistoryFactory

pytestmark = pytest.mark.django_db(transaction=True)

Status = ChatHistory.Status


def test_a_naive_before_moment_reads_as_the_sites_time_zone(client, user):
    ChatHistoryFactory(user=user, message="Still here")

    response = client.get("/chat/", {"before": "2999-01-01T10:00"})

    assert response.status_code == 200
    assert "Still here" in response.content.decode()


def test_a_huge_history_limit_is_capped_not_a_500(client, user, bearer):
    ChatHistoryFactory(user=user)

    response = client.get(f"/api/chat/history/{user.pk}", {"limit": "9" * 25}, headers=bearer)

    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


def test_text_no_store_can_hold_is_refused_with_400(client, user, bearer):
    body = '{"userId": "' + str(user.pk) + '", "message": "\\ud800"}'  # a lone surrogate, escaped

    response = client.post("/api/chat/save", body, content_type="application/json", headers=bearer)

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not ChatHistory.objects.exists()


def test_a_nul_character_in_a_message_is_refused(client, user):
    response = client.post("/chat/send/", {"message": "a\x00b"}, headers={"HX-Request": "true"})

    assert 400 <= response.status_code < 500
    assert not ChatHistory.objects.exists()


def test_the_page_sends_to_the_planning_or_the_assistants_chat_and_nothing_else(client, user):
    client.post("/chat/send/", {"message": "Hello", "chat_type": "new-project"})  # a draft's needs its draft
    client.post("/chat/send/", {"message": "Hello", "chat_type": "something-else"})
    client.post("/chat/send/", {"message": "Hello", "chat_type": "navigation"})

    assert list(ChatHistory.objects.order_by("pk").values_list("chat_type", flat=True)) == [
        "project-planning",
        "project-planning",
        "navigation",
    ]
    for chat in ChatHistory.objects.all():
        wait_until_settled(chat)


def test_a_reply_just_saved_is_not_taken_for_an_orphan_before_its_generation_registers(user):
    chat = ChatHistoryFactory(user=user, status=Status.PENDING, response="")

    assert not generation.is_orphaned(chat)

    ChatHistory.objects.filter(pk=chat.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=5))
    chat.refresh_from_db()
    assert generation.is_orphaned(chat)


def test_a_reply_that_finished_meanwhile_cannot_be_retried_over(user):
    chat = ChatHistoryFactory(user=user, status=Status.FAILED, response="")
    stale = ChatHistory.objects.get(pk=chat.pk)
    ChatHistory.objects.filter(pk=chat.pk).update(status=Status.COMPLETE, response="Done already.")

    with pytest.raises(services.ChatRejected):
        services.chat_retry(chat=stale)

    chat.refresh_from_db()
    assert (chat.status, chat.response) == (Status.COMPLETE, "Done already.")


def test_load_earlier_skips_no_message_when_many_share_a_timestamp(client, user):
    moment = timezone.now() - datetime.timedelta(hours=1)
    chats = ChatHistoryFactory.create_batch(25, user=user, created_at=moment)

    first = client.get("/chat/")
    link = re.search(r'hx-get="([^"]*before_id=[^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    earlier = client.get(link)

    shown = {chat.message for chat in first.context["chats"]} | {chat.message for chat in earlier.context["chats"]}
    assert shown == {chat.message for chat in chats}
