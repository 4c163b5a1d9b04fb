"""Small helpers shared by the chat tests."""

import re
import threading
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


def progress_tail(snapshot_html: str) -> str:
    """The plain text in progress from a page ``snapshot`` event (HTML-escaped, as sent)."""
    match = re.search(r'<div class="reply__tail" id="reply-\w+-tail">(.*)</div>$', snapshot_html, re.S)
    assert match, snapshot_html
    return match.group(1)


def stream_events(body: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a whole event stream; data lines joined as a browser joins them."""
    events = []
    for raw in body.split("\n\n"):
        lines = raw.split("\n")
        names = [line[len("event: ") :] for line in lines if line.startswith("event: ")]
        if names:
            data = "\n".join(line[len("data: ") :] for line in lines if line.startswith("data: "))
            events.append((names[0], data))
    return events


def release_once_watched(chat, release: threading.Event) -> None:
    """Set ``release`` (a held fake model goes on) once someone watches ``chat``'s reply."""
    from chat import generation

    def wait_then_release():
        wait_for(lambda: bool(generation._live[str(chat.pk)].inboxes))
        release.set()

    threading.Thread(target=wait_then_release, daemon=True).start()
