"""The chat API: the prototype's contract, and sending with streamed replies."""

import datetime
import json
import re
import threading

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from chat import services
from chat.models import ChatHistory
from chat.tests.helpers import wait_for
from tests.factories import ChatHistoryFactory, ProjectFactory, UserFactory
from tests.fake_gemini import Failure, Reply, cut_reply, empty_reply, max_tokens_reply, safety_block

pytestmark = pytest.mark.django_db(transaction=True)

CHAT_KEYS = {"_id", "userId", "message", "response", "chatType", "createdAt", "updatedAt", "status", "projectId"}


@pytest.fixture
def user():
    return UserFactory()


@pytest.fixture
def bearer(user):
    _, raw = ApiToken.issue(user=user, name="tests")
    return {"Authorization": f"Bearer {raw}"}


def events(response) -> list[tuple[str, dict]]:
    body = b"".join(response.streaming_content).decode()
    return [(name, json.loads(data)) for name, data in re.findall(r"event: (\w+)\ndata: (.*)\n\n", body)]


def test_history_returns_the_prototype_shape_oldest_first(client, user, bearer):
    first = ChatHistoryFactory(user=user, message="First")
    ChatHistoryFactory(user=user, message="Second")
    ChatHistoryFactory(user=user, message="Navigation", chat_type="navigation")

    response = client.get(f"/api/chat/history/{user.pk}", {"chatType": "project-planning"}, headers=bearer)

    body = response.json()
    assert response.status_code == 200
    assert body["success"] is True
    assert [chat["message"] for chat in body["data"]] == ["First", "Second"]
    chat = body["data"][0]
    assert set(chat) == CHAT_KEYS
    assert chat["_id"] == str(first.pk) and chat["userId"] == str(user.pk)
    assert chat["status"] == "complete" and chat["projectId"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", chat["createdAt"])


def test_history_limit_returns_the_newest_oldest_first(client, user, bearer):
    for n in range(5):
        ChatHistoryFactory(user=user, message=f"M{n}")
    body = client.get(f"/api/chat/history/{user.pk}", {"limit": 2}, headers=bearer).json()
    assert [chat["message"] for chat in body["data"]] == ["M3", "M4"]
    assert body["hasMore"] is True


def test_history_pages_by_default_and_the_cursor_walks_back_through_all(client, user, bearer):
    moment = timezone.now()
    # Records sharing a timestamp (imported ones do) are paged by key, none skipped.
    for n in range(120):
        ChatHistoryFactory(user=user, message=f"M{n:03d}", created_at=moment - datetime.timedelta(seconds=n // 3))
    pages, before = [], None
    while True:
        params = {"before": before} if before else {}
        body = client.get(f"/api/chat/history/{user.pk}", params, headers=bearer).json()
        pages.append([chat["message"] for chat in body["data"]])
        if not body["hasMore"]:
            assert body["nextBefore"] is None
            break
        before = body["nextBefore"]

    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [message for page in reversed(pages) for message in page]
    assert sorted(seen) == sorted(f"M{n:03d}" for n in range(120))
    assert len(set(seen)) == 120


def test_history_reads_one_page_whatever_the_history_size(client, user, bearer, django_assert_max_num_queries):
    ChatHistoryFactory.create_batch(300, user=user)

    with django_assert_max_num_queries(4):
        body = client.get(f"/api/chat/history/{user.pk}", headers=bearer).json()

    assert len(body["data"]) == 50


def test_history_with_a_cursor_from_another_chat_answers_404(client, user, bearer):
    other = ChatHistoryFactory(user=UserFactory())

    response = client.get(f"/api/chat/history/{user.pk}", {"before": str(other.pk)}, headers=bearer)

    assert response.status_code == 404


def test_history_of_another_user_is_refused(client, user, bearer):
    other = UserFactory()
    response = client.get(f"/api/chat/history/{other.pk}", headers=bearer)
    assert response.status_code == 403
    assert response.json() == {"success": False, "error": "You can only reach your own chat history."}


def test_staff_may_read_any_history_but_not_delete_it(client):
    staff = UserFactory(is_staff=True)
    other = UserFactory()
    ChatHistoryFactory(user=other, message="Visible to staff")
    client.force_login(staff)

    assert client.get(f"/api/chat/history/{other.pk}").json()["data"][0]["message"] == "Visible to staff"
    assert client.get("/api/chat/history/not-a-user").status_code == 404
    assert client.delete(f"/api/chat/history/{other.pk}").status_code == 403
    assert ChatHistory.objects.count() == 1


def test_api_needs_authentication(client, user):
    response = client.get(f"/api/chat/history/{user.pk}")
    assert response.status_code == 401
    assert response.json()["success"] is False
    assert client.post("/api/chat/send", {"message": "Hi"}, content_type="application/json").status_code == 401


def test_save_stores_a_finished_exchange(client, user, bearer):
    payload = {"userId": str(user.pk), "message": "Q", "response": "A", "chatType": "new-project"}

    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)

    body = response.json()
    assert response.status_code == 201
    assert body["success"] is True
    assert set(body["data"]) == CHAT_KEYS
    assert (body["data"]["message"], body["data"]["response"], body["data"]["chatType"]) == ("Q", "A", "new-project")
    assert ChatHistory.objects.get().status == "complete"


def test_save_rate_limit_answers_429_with_retry_after(client, user, bearer, settings):
    settings.CHAT_SAVE_LIMIT = 2
    payload = {"userId": str(user.pk), "message": "Q", "response": "A"}
    for _ in range(2):
        assert (
            client.post("/api/chat/save", payload, content_type="application/json", headers=bearer).status_code == 201
        )

    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)

    assert response.status_code == 429
    assert response.json()["success"] is False
    assert response.json()["error"].startswith("You're saving messages faster than 2 per hour. Try again in")
    assert 1 <= int(response["Retry-After"]) <= 3601
    assert ChatHistory.objects.count() == 2


def test_saves_and_sends_are_counted_apart(client, user, bearer, settings):
    settings.CHAT_SAVE_LIMIT = 1
    settings.CHAT_SEND_LIMIT = 1
    payload = {"userId": str(user.pk), "message": "Q", "response": "A"}
    assert client.post("/api/chat/save", payload, content_type="application/json", headers=bearer).status_code == 201
    assert (
        client.post("/api/chat/send", {"message": "Hi"}, content_type="application/json", headers=bearer).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("field", "size", "problem"),
    [
        ("message", 8001, "message: String should have at most 8000 characters"),
        ("response", 200_001, "response: String should have at most 200000 characters"),
    ],
)
def test_save_refuses_a_message_or_reply_longer_than_a_send_or_a_model_reply(
    client, user, bearer, field, size, problem
):
    payload = {"userId": str(user.pk), "message": "Q", "response": "A", field: "z" * size}
    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": f"Invalid request. {problem}"}
    assert not ChatHistory.objects.exists()


def test_save_takes_the_longest_message_and_reply(client, user, bearer):
    payload = {"userId": str(user.pk), "message": "q" * 8000, "response": "a" * 200_000}
    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 201
    assert len(ChatHistory.objects.get().response) == 200_000


def test_a_body_larger_than_the_server_takes_answers_413(client, user, bearer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = {"userId": str(user.pk), "message": "Q", "response": "a" * 2000}
    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 413
    assert response.json() == {"success": False, "error": "The request body is too large."}
    assert not ChatHistory.objects.exists()


def test_save_for_another_user_is_refused(client, user, bearer):
    payload = {"userId": str(UserFactory().pk), "message": "Q", "response": "A", "chatType": "project-planning"}
    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 403
    assert not ChatHistory.objects.exists()


def test_save_with_a_bad_chat_type_explains(client, user, bearer):
    payload = {"userId": str(user.pk), "message": "Q", "response": "A", "chatType": "gossip"}
    response = client.post("/api/chat/save", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid request. chatType")


def test_delete_history_removes_only_that_chat_type(client, user, bearer):
    ChatHistoryFactory.create_batch(2, user=user)
    ChatHistoryFactory(user=user, chat_type="navigation")
    ChatHistoryFactory()

    response = client.delete(f"/api/chat/history/{user.pk}?chatType=project-planning", headers=bearer)

    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Deleted 2 messages.", "deletedCount": 2}
    assert ChatHistory.objects.count() == 2


def test_session_writes_need_the_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.delete(f"/api/chat/history/{user.pk}")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_send_answers_with_the_saved_chat_when_the_reply_is_done(client, user, bearer, fake_model):
    fake_model.script(Reply(["Done", " deal."]))

    response = client.post("/api/chat/send", {"message": "Hi"}, content_type="application/json", headers=bearer)

    body = response.json()
    assert response.status_code == 200
    assert body == {"success": True, "data": body["data"]}
    assert body["data"]["response"] == "Done deal."
    assert body["data"]["status"] == "complete"
    assert ChatHistory.objects.get().user == user


def test_send_into_a_project(client, user, bearer):
    project = ProjectFactory(owner=user, name="Roof")
    payload = {"message": "List the tasks", "projectId": str(project.pk)}

    body = client.post("/api/chat/send", payload, content_type="application/json", headers=bearer).json()

    assert body["data"]["projectId"] == str(project.pk)
    assert "Roof" in body["data"]["response"]


def test_send_into_someone_elses_project_answers_404(client, bearer):
    payload = {"message": "Hi", "projectId": str(ProjectFactory().pk)}
    response = client.post("/api/chat/send", payload, content_type="application/json", headers=bearer)
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Not found."}


def test_send_streams_deltas_then_one_final_event_with_the_saved_chat(client, user, bearer, fake_model):
    fake_model.script(Reply(["One", " two", " three"]))

    response = client.post(
        "/api/chat/send",
        {"message": "Count"},
        content_type="application/json",
        headers={**bearer, "Accept": "text/event-stream"},
    )

    assert response["Content-Type"].startswith("text/event-stream")
    received = events(response)
    assert received[0][0] == "start" and received[0][1]["data"]["status"] == "pending"
    # Deltas that arrive together may travel as one event, and text written before the
    # stream began comes as one snapshot; none is repeated or lost.
    text = "".join(data["text"] for name, data in received if name in ("snapshot", "delta"))
    assert text == "One two three"
    assert [name for name, _ in received].count("done") == 1
    name, final = received[-1]
    assert name == "done"
    assert final["success"] is True
    assert final["data"]["response"] == "One two three"
    assert final["data"]["status"] == "complete"


@pytest.mark.parametrize(
    ("script", "status", "kind", "http_status"),
    [
        (Failure(429, retry_after=300), "failed", "rate_limited", 429),
        (Failure(500), "failed", "unavailable", 502),
        (Failure(403, "API key not valid"), "failed", "misconfigured", 502),
        (safety_block(), "failed", "safety", 422),
        (empty_reply(), "failed", "empty", 502),
        (cut_reply(), "interrupted", "cut", 200),
        (max_tokens_reply(), "interrupted", "output_limit", 200),
    ],
)
def test_every_failure_ends_the_stream_saying_what_happened(
    client, bearer, fake_model, script, status, kind, http_status
):
    fake_model.script(script)
    headers = {**bearer, "Accept": "text/event-stream"}

    received = events(
        client.post("/api/chat/send", {"message": "Hi"}, content_type="application/json", headers=headers)
    )

    name, final = received[-1]
    saved = ChatHistory.objects.get()
    assert name == "done"
    assert final["success"] is (status != "failed")
    assert final["errorKind"] == kind and final["error"] == saved.error
    assert final["data"]["status"] == saved.status == status
    assert final["data"]["message"] == saved.message == "Hi"

    fake_model.script(script)
    response = client.post("/api/chat/send", {"message": "Again"}, content_type="application/json", headers=bearer)
    assert response.status_code == http_status
    assert response.json()["errorKind"] == kind
    assert response.json()["data"]["status"] == status


def test_send_refuses_an_overlong_message(client, bearer):
    response = client.post("/api/chat/send", {"message": "z" * 8001}, content_type="application/json", headers=bearer)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Invalid request. message: String should have at most 8000 characters",
    }
    assert not ChatHistory.objects.exists()


@pytest.mark.parametrize("message", ["", " \n\t\u3000", "Hi\x00"])
def test_send_refuses_a_blank_message_or_one_with_nul(client, bearer, message):
    response = client.post("/api/chat/send", {"message": message}, content_type="application/json", headers=bearer)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Invalid request. message: must contain more than whitespace, and no NUL characters"
    )
    assert not ChatHistory.objects.exists()


def test_send_rate_limit_answers_429_with_retry_after(client, bearer, settings):
    settings.CHAT_SEND_LIMIT = 1
    client.post("/api/chat/send", {"message": "One"}, content_type="application/json", headers=bearer)

    response = client.post("/api/chat/send", {"message": "Two"}, content_type="application/json", headers=bearer)

    assert response.status_code == 429
    assert response.json()["success"] is False
    assert "Try again in" in response.json()["error"]
    assert int(response["Retry-After"]) >= 1


def test_retry_and_continue_through_the_api(client, user, bearer, fake_model):
    fake_model.script(cut_reply(["Half"]), Reply([" and whole."]), Reply(["Fresh."]))
    chat = client.post("/api/chat/send", {"message": "Hi"}, content_type="application/json", headers=bearer).json()
    assert chat["data"]["status"] == "interrupted"

    continued = client.post(f"/api/chat/{chat['data']['_id']}/continue", headers=bearer).json()
    assert continued["data"]["response"] == "Half and whole."

    retried = client.post(f"/api/chat/{chat['data']['_id']}/retry", headers=bearer)
    assert retried.status_code == 409  # a complete reply is not retried

    ChatHistory.objects.update(status="failed")
    retried = client.post(f"/api/chat/{chat['data']['_id']}/retry", headers=bearer).json()
    assert retried["data"]["response"] == "Fresh."


@pytest.mark.parametrize(
    ("method", "action"), [("post", "stop"), ("post", "retry"), ("post", "continue"), ("get", "stream")]
)
def test_other_users_chats_answer_404_in_the_api(client, bearer, method, action):
    chat = ChatHistoryFactory(status="interrupted", response="Theirs")
    response = getattr(client, method)(f"/api/chat/{chat.pk}/{action}", headers=bearer)
    assert response.status_code == 404
    assert response.json() == {"success": False, "error": "Not found."}
    assert getattr(client, method)(f"/api/chat/nonsense/{action}", headers=bearer).status_code == 404


def test_following_a_finished_chat_sends_its_final_event(client, user, bearer):
    chat = ChatHistoryFactory(user=user, response="Stored")
    received = events(client.get(f"/api/chat/{chat.pk}/stream", headers=bearer))
    assert received[0] == ("snapshot", {"text": "Stored"})
    assert received[-1][1]["data"]["status"] == "complete"


def test_stop_through_the_api_keeps_the_partial_reply(client, user, bearer, fake_model):
    release = threading.Event()
    fake_model.script(Reply(["So far", " and beyond"], hold=release, hold_after=1))
    chat = services.chat_send(user=user, message="Hi")
    wait_for(lambda: ChatHistory.objects.get(pk=chat.pk).response == "So far")

    body = client.post(f"/api/chat/{chat.pk}/stop", headers=bearer).json()
    release.set()

    assert body["success"] is True
    assert (body["data"]["status"], body["data"]["response"]) == ("interrupted", "So far")


def test_sends_past_the_server_capacity_answer_503_at_once_and_save_nothing(client, user, bearer, settings):
    settings.CHAT_MAX_STREAMS = 0

    response = client.post("/api/chat/send", {"message": "Hello"}, content_type="application/json", headers=bearer)

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json() == {"success": False, "error": response.json()["error"]}
    assert "Try again in a few seconds" in response.json()["error"]
    assert not ChatHistory.objects.exists()
