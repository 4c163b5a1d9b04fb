"""Replies really stream under the production ASGI server (uvicorn).

The fake model is held after its first chunk; the first text must reach an
HTTP client before the model is released to finish.
"""

import threading

import httpx2
import pytest
from django.test import Client

from accounts.models import ApiToken
from chat.models import ChatHistory
from chat.tests.helpers import progress_tail, wait_until_settled
from tests.factories import UserFactory
from tests.fake_gemini import Reply

pytestmark = pytest.mark.django_db(transaction=True)

# What a browser sends: the app compresses pages, but an event stream must go out as it is written.
BROWSER_ENCODINGS = {"Accept-Encoding": "gzip, deflate, br"}


def session_cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value}


def read_events(lines):
    """(event, data) pairs from an event stream's lines."""
    name, data = None, []
    for line in lines:
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif line == "" and name:
            yield name, "\n".join(data)
            name, data = None, []


def test_page_stream_delivers_the_first_token_before_the_model_finishes(asgi_server, fake_gemini):
    release = threading.Event()
    fake_gemini.script(Reply(["First token", " and the rest."], hold=release, hold_after=1))
    user = UserFactory()
    cookies = session_cookie(user)
    client = Client()
    client.force_login(user)
    client.post("/chat/send/", {"message": "Hi"}, headers={"HX-Request": "true"})
    chat = ChatHistory.objects.get()

    http = httpx2.Client(base_url=asgi_server, cookies=cookies, timeout=10)
    with http, http.stream("GET", f"/chat/{chat.pk}/stream/", headers=BROWSER_ENCODINGS) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in response.headers  # compression would hold the tokens back
        events = read_events(response.iter_lines())
        text = ""
        for name, data in events:
            text += progress_tail(data) if name == "snapshot" else data if name == "delta" else ""
            if text:
                break
        assert text == "First token"
        assert not fake_gemini.finished.is_set()
        release.set()
        rest = list(events)

    assert ("delta", " and the rest.") in rest
    assert rest[-1][0] == "done" and "First token and the rest." in rest[-1][1]
    assert wait_until_settled(chat).status == ChatHistory.Status.COMPLETE


def test_api_send_streams_the_first_token_before_the_model_finishes(asgi_server, fake_gemini):
    release = threading.Event()
    fake_gemini.script(Reply(["Early", " and late."], hold=release, hold_after=1))
    _, token = ApiToken.issue(user=UserFactory(), name="stream test")
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream", **BROWSER_ENCODINGS}

    http = httpx2.Client(base_url=asgi_server, timeout=10)
    with http, http.stream("POST", "/api/chat/send", json={"message": "Hi"}, headers=headers) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        events = read_events(response.iter_lines())
        assert next(events)[0] == "start"
        # A snapshot when the first token came before the stream began, else a delta.
        name, data = next(events)
        assert name in ("snapshot", "delta") and data == '{"text": "Early"}'
        assert not fake_gemini.finished.is_set()
        release.set()
        rest = list(events)

    assert rest[-1][0] == "done"
    assert '"status": "complete"' in rest[-1][1] and "Early and late." in rest[-1][1]


def test_a_reload_during_a_reply_gets_what_was_written_and_the_rest(asgi_server, fake_gemini):
    release = threading.Event()
    fake_gemini.script(Reply(["Written before the reload", ", then after."], hold=release, hold_after=1))
    user = UserFactory()
    _, token = ApiToken.issue(user=user, name="stream test")
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}

    with httpx2.Client(base_url=asgi_server, timeout=10) as http:
        with http.stream("POST", "/api/chat/send", json={"message": "Hi"}, headers=headers) as first:
            events = read_events(first.iter_lines())
            next(events), next(events)
        # The first connection is gone; the reply goes on without it.
        chat = ChatHistory.objects.get()
        with http.stream("GET", f"/chat/{chat.pk}/stream/", cookies=session_cookie(user)) as second:
            events = read_events(second.iter_lines())
            name, data = next(events)
            assert (name, progress_tail(data)) == ("snapshot", "Written before the reload")
            release.set()
            rest = list(events)

    assert ("delta", ", then after.") in rest
    assert wait_until_settled(chat).response == "Written before the reload, then after."
