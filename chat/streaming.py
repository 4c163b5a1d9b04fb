"""Replies as server-sent event streams, the same under ASGI and WSGI.

A view picks an encoder (the page's HTML fragments or the API's JSON events)
that turns ``reply_events`` into SSE text; ``event_stream_response`` serves
it. Django buffers a synchronous iterator under ASGI and an asynchronous one
under WSGI, so the stream stays asynchronous throughout and a WSGI server
receives it through the process's own event loop.
"""

from collections.abc import AsyncIterator

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

from chat.generation import iterate_on_process_loop

KEEPALIVE = ": keep-alive\n\n"


def sse_event(event: str, data: str) -> str:
    """One server-sent event; multi-line data becomes several ``data:`` lines."""
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def event_stream_response(request: HttpRequest, chunks: AsyncIterator[str]) -> StreamingHttpResponse:
    """Stream ``chunks`` as ``text/event-stream``, unbuffered by any proxy on the way."""
    content = chunks if isinstance(request, ASGIRequest) else iterate_on_process_loop(chunks)
    response = StreamingHttpResponse(content, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
