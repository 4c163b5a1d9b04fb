"""Pages and JSON go out gzipped to clients that accept it; event streams never do, and still stream."""

import gzip
import threading

import httpx2
import pytest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from accounts.models import ApiToken
from catalyst.middleware import CompressionMiddleware
from chat.models import ChatHistory
from chat.tests import conftest as chat_fixtures
from chat.tests.helpers import progress_tail, wait_until_settled
from tests.factories import UserFactory
from tests.fake_gemini import Reply

pytestmark = pytest.mark.django_db(transaction=True)

asgi_server = chat_fixtures.asgi_server  # the chat tests' real uvicorn

GZIP = {"Accept-Encoding": "gzip, deflate"}
TEXT = b"Project Catalyst plans projects with you, a task at a time. " * 40


def varies_on_accept_encoding(response) -> bool:
    return "accept-encoding" in response.get("Vary", "").lower()


def test_a_page_goes_out_gzipped_and_varies_on_accept_encoding(client):
    response = client.get("/accounts/login/", headers=GZIP)

    assert response["Content-Encoding"] == "gzip"
    assert varies_on_accept_encoding(response)
    assert gzip.decompress(response.content).startswith(b"<!DOCTYPE html>")
    assert int(response["Content-Length"]) == len(response.content)


async def test_a_page_goes_out_gzipped_on_the_async_path(async_client):
    response = await async_client.get("/accounts/login/", headers=GZIP)

    assert response["Content-Encoding"] == "gzip"
    assert varies_on_accept_encoding(response)
    assert b"<h1" in gzip.decompress(response.content)


def test_json_goes_out_gzipped(client):
    response = client.get("/api/openapi.json", headers=GZIP)

    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Encoding"] == "gzip"
    assert b'"openapi"' in gzip.decompress(response.content)


def test_a_client_that_does_not_accept_gzip_gets_the_page_plain(client):
    response = client.get("/accounts/login/")

    assert "Content-Encoding" not in response
    assert varies_on_accept_encoding(response)
    assert response.content.startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize(
    "response",
    [
        HttpResponse(TEXT, content_type="text/event-stream"),
        StreamingHttpResponse(iter([TEXT]), content_type="text/event-stream"),
        StreamingHttpResponse(iter([TEXT]), content_type="text/html"),
        FileResponse(iter([TEXT]), content_type="text/plain"),
        HttpResponse(TEXT, content_type="application/zip"),
    ],
    ids=["event-stream", "streaming-event-stream", "streaming-page", "file", "archive"],
)
def test_streams_and_binary_bodies_pass_untouched(response):
    request = RequestFactory().get("/", headers=GZIP)

    answered = CompressionMiddleware(lambda request: response)(request)

    assert "Content-Encoding" not in answered
    assert "Vary" not in answered
    body = b"".join(answered.streaming_content) if answered.streaming else answered.content
    assert body == TEXT


@pytest.mark.parametrize("size", [len(TEXT), CompressionMiddleware.inline_max_bytes + 1])
async def test_on_the_async_path_small_and_large_bodies_are_gzipped(size):
    body = (TEXT * (size // len(TEXT) + 1))[:size]

    async def view(request):
        return HttpResponse(body, content_type="text/html; charset=utf-8")

    answered = await CompressionMiddleware(view)(RequestFactory().get("/", headers=GZIP))

    assert answered["Content-Encoding"] == "gzip"
    assert gzip.decompress(answered.content) == body


# --- Over the production ASGI server -----------------------------------------------


def events(lines):
    """(event, data) pairs as an event stream's lines arrive."""
    name, data = None, []
    for line in lines:
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line == "" and name:
            yield name, "\n".join(data)
            name, data = None, []


def test_under_uvicorn_a_page_is_gzipped(asgi_server, quick_chat):
    with httpx2.Client(base_url=asgi_server, headers=GZIP, timeout=10) as http:
        response = http.get("/accounts/login/")

    assert response.headers["content-encoding"] == "gzip"
    assert response.text.startswith("<!DOCTYPE html>")


def test_under_uvicorn_the_api_event_stream_is_not_gzipped_and_streams_token_by_token(
    asgi_server, quick_chat, fake_gemini
):
    release = threading.Event()
    fake_gemini.script(Reply(["Early", " and late."], hold=release, hold_after=1))
    _, token = ApiToken.issue(user=UserFactory(), name="stream test")
    headers = {**GZIP, "Authorization": f"Bearer {token}", "Accept": "text/event-stream"}

    with (
        httpx2.Client(base_url=asgi_server, timeout=10) as http,
        http.stream("POST", "/api/chat/send", json={"message": "Hi"}, headers=headers) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        stream = events(response.iter_lines())
        assert next(stream)[0] == "start"
        assert next(stream) in {("snapshot", '{"text": "Early"}'), ("delta", '{"text": "Early"}')}
        assert not fake_gemini.finished.is_set()  # the first token came while the model was held
        release.set()
        rest = list(stream)

    assert ("delta", '{"text": " and late."}') in rest
    assert rest[-1][0] == "done"


def test_under_uvicorn_the_page_event_stream_is_not_gzipped_and_streams_token_by_token(
    asgi_server, quick_chat, fake_gemini, client
):
    release = threading.Event()
    fake_gemini.script(Reply(["First token", " and the rest."], hold=release, hold_after=1))
    client.force_login(UserFactory())
    client.post("/chat/send/", {"message": "Hi"}, headers={"HX-Request": "true"})
    chat = ChatHistory.objects.get()
    cookies = {"sessionid": client.cookies["sessionid"].value}

    with (
        httpx2.Client(base_url=asgi_server, cookies=cookies, timeout=10) as http,
        http.stream("GET", f"/chat/{chat.pk}/stream/", headers=GZIP) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        stream = events(response.iter_lines())
        text = ""
        for name, data in stream:
            text += progress_tail(data) if name == "snapshot" else data if name == "delta" else ""
            if text:
                break
        assert text == "First token"
        assert not fake_gemini.finished.is_set()
        release.set()
        rest = list(stream)

    assert ("delta", " and the rest.") in rest
    assert wait_until_settled(chat).status == ChatHistory.Status.COMPLETE
