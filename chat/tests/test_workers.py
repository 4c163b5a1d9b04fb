"""One conversation across workers: two uvicorn processes on one site, with Redis.

The model is the fake Gemini server, slow enough to watch. The second server
polls the record only once a minute here, so what reaches its viewers while
the reply is written came through Redis.
"""

import contextlib
import json
import threading
import time

import httpx
import pytest

from chat.models import ChatHistory
from tests.fake_gemini import FakeGemini, Reply
from tests.live_site import live_site

CHUNKS = 30
CHUNK_DELAY = 0.1


@contextlib.contextmanager
def _two_workers(tmp_path, redis_url, *, flush_interval: str):
    fake = FakeGemini().start()
    env = {
        "CACHE_URL": redis_url,
        "AI_PROVIDER": "gemini",
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": fake.url,
        "GEMINI_MODEL": "gemini-test-model",
        "CHAT_POLL_INTERVAL": "60",
        "CHAT_FLUSH_INTERVAL": flush_interval,
    }
    try:
        with live_site(tmp_path, servers=2, **env) as site:
            yield site, fake
    finally:
        fake.stop()


@pytest.fixture
def two_workers(tmp_path, redis_url):
    with _two_workers(tmp_path, redis_url, flush_interval="0.2") as site_and_fake:
        yield site_and_fake


@pytest.fixture
def two_workers_rarely_saving(tmp_path, redis_url):
    """The record is written only at the end of a reply: what a viewer gets mid-reply is Redis's."""
    with _two_workers(tmp_path, redis_url, flush_interval="60") as site_and_fake:
        yield site_and_fake


def _events(response: httpx.Response):
    """(name, data, arrival time) for each event of an open event stream."""
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name:
            yield name, json.loads(line[len("data: ") :]), time.monotonic()
            name = None


def _start(site, client: httpx.Client) -> tuple[str, threading.Thread, list]:
    """Send a message to the first server; return the chat id and the first viewer's thread."""
    first_events: list = []
    chat_id: list[str] = []
    started = threading.Event()

    def first_viewer():
        with client.stream(
            "POST",
            f"{site.urls[0]}/api/chat/send",
            json={"message": "Count slowly"},
            headers={**site.auth, "Accept": "text/event-stream"},
        ) as response:
            for event in _events(response):
                if event[0] == "start":
                    chat_id.append(event[1]["data"]["_id"])
                    started.set()
                first_events.append(event)

    thread = threading.Thread(target=first_viewer)
    thread.start()
    assert started.wait(20)
    return chat_id[0], thread, first_events


def test_a_viewer_on_another_worker_gets_live_deltas_through_redis(two_workers):
    site, fake = two_workers
    fake.script(Reply([f"w{n} " for n in range(CHUNKS)], delay=CHUNK_DELAY))
    with httpx.Client(timeout=30) as client:
        chat_id, first, _ = _start(site, client)
        time.sleep(CHUNK_DELAY * 5)  # join mid-reply

        with client.stream("GET", f"{site.urls[1]}/api/chat/{chat_id}/stream", headers=site.auth) as response:
            seen = list(_events(response))
        first.join(20)

    deltas = [event for event in seen if event[0] == "delta"]
    text = "".join(data["text"] for name, data, _ in seen if name in ("snapshot", "delta"))
    assert text == "".join(f"w{n} " for n in range(CHUNKS))
    assert seen[-1][0] == "done" and seen[-1][1]["data"]["status"] == ChatHistory.Status.COMPLETE
    # Live: many deltas, spread over the reply, not one catch-up at the end.
    assert len(deltas) >= CHUNKS // 3
    assert deltas[-1][2] - deltas[0][2] > CHUNK_DELAY * CHUNKS / 3


def test_stop_on_another_worker_stops_the_model_within_a_second(two_workers):
    site, fake = two_workers
    fake.script(Reply([f"w{n} " for n in range(CHUNKS * 4)], delay=CHUNK_DELAY))
    with httpx.Client(timeout=30) as client:
        chat_id, first, first_events = _start(site, client)
        time.sleep(CHUNK_DELAY * 5)

        response = client.post(f"{site.urls[1]}/api/chat/{chat_id}/stop", headers=site.auth)
        stopped_at = time.monotonic()
        assert response.status_code == 200
        assert fake.client_disconnected.wait(5)
        disconnected_at = time.monotonic()
        first.join(20)

    assert disconnected_at - stopped_at < 1.0
    final = first_events[-1]
    assert final[0] == "done"
    assert (final[1]["data"]["status"], final[1]["errorKind"]) == ("interrupted", "stopped")
    assert final[1]["data"]["response"].startswith("w0 w1 ")


def test_a_viewer_joining_mid_reply_gets_the_text_so_far_at_once(two_workers_rarely_saving):
    site, fake = two_workers_rarely_saving
    fake.script(Reply([f"w{n} " for n in range(CHUNKS)], delay=CHUNK_DELAY))
    with httpx.Client(timeout=30) as client:
        chat_id, first, _ = _start(site, client)
        time.sleep(CHUNK_DELAY * 8)  # join mid-reply; the record still holds nothing

        joined = time.monotonic()
        with client.stream("GET", f"{site.urls[1]}/api/chat/{chat_id}/stream", headers=site.auth) as response:
            seen = list(_events(response))
        first.join(20)

    early = "".join(data["text"] for name, data, at in seen if name in ("snapshot", "delta") and at - joined < 0.5)
    assert early.startswith("w0 w1 w2 w3 w4 ")  # what was written before joining, without waiting for the record
    text = "".join(data["text"] for name, data, _ in seen if name in ("snapshot", "delta"))
    assert text == "".join(f"w{n} " for n in range(CHUNKS))
