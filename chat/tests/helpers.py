"""Small helpers shared by the chat tests."""

import time

from chat.models import ChatHistory


def read_stream(client, chat) -> str:
    """Follow a reply's page event stream to its end; returns the raw events."""
    response = client.get(f"/chat/{chat.pk}/stream/")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def wait_until_settled(chat, timeout: float = 10.0) -> ChatHistory:
    """The chat once its reply is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        chat.refresh_from_db()
        if chat.status != ChatHistory.Status.PENDING:
            return chat
        assert time.monotonic() < deadline, "the reply never finished"
        time.sleep(0.02)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
