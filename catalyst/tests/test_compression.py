"""Pages and JSON go out gzipped to clients that accept it; event streams never do.

That the streams still arrive token by token through it, over a real uvicorn, is
``chat/tests/test_asgi_streaming.py``'s to show."""

import gzip

import httpx2
import pytest
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.test import RequestFactory

from catalyst.middleware import CompressionMiddleware

pytestmark = pytest.mark.django_db(transaction=True)

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


def test_under_uvicorn_a_page_is_gzipped(asgi_server, quick_chat):
    with httpx2.Client(base_url=asgi_server, headers=GZIP, timeout=10) as http:
        response = http.get("/accounts/login/")

    assert response.headers["content-encoding"] == "gzip"
    assert response.text.startswith("<!DOCTYPE html>")
