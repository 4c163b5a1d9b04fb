"""A fake Gemini REST server for tests.

A real threaded HTTP server on 127.0.0.1 that speaks the parts of the Gemini
API the chat uses (``POST /v1beta/models/{model}:streamGenerateContent?alt=sse``
and ``:generateContent``), so the real google-genai client talks to it through
``GEMINI_BASE_URL``. Each test scripts the replies and then asserts on what
the server received::

    fake_gemini.script(Reply(["Hello", " there"]))
    fake_gemini.script(Failure(429, retry_after=3), Reply(["ok"]))   # one per request
    fake_gemini.requests[0].system_instruction

A script is used once per request, in order; the last one repeats.
Structured-output requests (``:generateContent``) have their own scripts::

    fake_gemini.script_structured(JsonReply({"name": "Bakery", ...}), JsonReply(text="{not json"))
    fake_gemini.requests[-1].response_schema
"""

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """A streamed reply: one SSE event per chunk.

    ``delay`` waits before each chunk (a slow model). ``hold`` pauses after
    ``hold_after`` chunks until the event is set (a model held mid-reply).
    ``finish`` is the last chunk's finishReason; ``cut`` drops the connection
    after the chunks instead of finishing.
    """

    chunks: list[str] = field(default_factory=lambda: ["Hello", " from", " Gemini."])
    delay: float = 0.0
    hold: threading.Event | None = None
    hold_after: int = 1
    finish: str | None = "STOP"
    cut: bool = False
    safety_category: str | None = None
    prompt_tokens: int = 12
    response_tokens: int = 7


@dataclass
class JsonReply:
    """A structured-output answer: ``payload`` as JSON, or ``text`` exactly as given (malformed, empty)."""

    payload: object = None
    text: str | None = None

    @property
    def body(self) -> str:
        return self.text if self.text is not None else json.dumps(self.payload)


@dataclass
class Failure:
    """An HTTP error answer in Gemini's error shape."""

    status: int = 500
    message: str = "Internal error"
    retry_after: float | None = None
    retry_delay: str | None = None

    @property
    def status_name(self) -> str:
        return {
            400: "INVALID_ARGUMENT",
            401: "UNAUTHENTICATED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }.get(self.status, "UNKNOWN")


def safety_block(category: str = "HARM_CATEGORY_HARASSMENT", chunks: list[str] | None = None) -> Reply:
    return Reply(chunks=chunks or [], finish="SAFETY", safety_category=category)


def empty_reply() -> Reply:
    return Reply(chunks=[], finish="STOP")


def cut_reply(chunks: list[str] | None = None) -> Reply:
    return Reply(chunks=chunks or ["The first half", " of a reply"], finish=None, cut=True)


def max_tokens_reply(chunks: list[str] | None = None) -> Reply:
    return Reply(chunks=chunks or ["A long answer that", " runs out"], finish="MAX_TOKENS")


@dataclass
class ReceivedRequest:
    path: str
    model: str
    method: str
    body: dict
    headers: dict
    #: The client's (host, port): one connection carries every request it sends.
    peer: tuple

    @property
    def system_instruction(self) -> str:
        parts = (self.body.get("systemInstruction") or {}).get("parts") or []
        return "".join(part.get("text", "") for part in parts)

    @property
    def response_schema(self) -> dict | None:
        return (self.body.get("generationConfig") or {}).get("responseJsonSchema")

    @property
    def turns(self) -> list[tuple[str, str]]:
        return [
            (content.get("role", ""), "".join(part.get("text", "") for part in content.get("parts", [])))
            for content in self.body.get("contents", [])
        ]


class FakeGemini:
    def __init__(self):
        self._scripts: list = [Reply()]
        self._structured: list = [JsonReply(text="")]
        self._lock = threading.Lock()
        self.requests: list[ReceivedRequest] = []
        #: Set when a client hung up while a reply was still being sent.
        self.client_disconnected = threading.Event()
        #: Set when the server has sent the last chunk of a reply.
        self.finished = threading.Event()
        #: How many client connections have ended.
        self.connections_closed = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gemini", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeGemini":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *scripts) -> None:
        with self._lock:
            self._scripts = list(scripts)
        self.finished.clear()
        self.client_disconnected.clear()

    def script_structured(self, *scripts) -> None:
        """What the structured-output requests get, one per request; the last repeats."""
        with self._lock:
            self._structured = list(scripts)

    def _next_script(self, structured: bool = False):
        with self._lock:
            scripts = self._structured if structured else self._scripts
            return scripts.pop(0) if len(scripts) > 1 else scripts[0]

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _connection_closed(self) -> None:
        with self._lock:
            self.connections_closed += 1


_PATH = re.compile(r"^/(?P<version>v1\w*)/models/(?P<model>[^:/]+):(?P<method>streamGenerateContent|generateContent)")


def _handler_for(fake: FakeGemini):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Each chunk goes out at once, as from a real server: with Nagle's algorithm on, a
        # chunk waits for the client's delayed ACK (40 ms) on a kept-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def finish(self):
            super().finish()
            fake._connection_closed()

        def do_POST(self):
            match = _PATH.match(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not match:
                self._json(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
                return
            body = json.loads(raw or b"{}")
            fake._record(
                ReceivedRequest(
                    path=self.path,
                    model=match["model"],
                    method=match["method"],
                    body=body,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    peer=self.client_address,
                )
            )
            structured = (
                match["method"] == "generateContent"
                and (body.get("generationConfig") or {}).get("responseMimeType") == "application/json"
            )
            script = fake._next_script(structured)
            if isinstance(script, Failure):
                self._failure(script)
            elif isinstance(script, JsonReply):
                self._whole(Reply(chunks=[script.body] if script.body else []))
            elif match["method"] == "generateContent":
                self._whole(script)
            else:
                self._stream(script)

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _failure(self, failure: Failure) -> None:
            error = {"code": failure.status, "message": failure.message, "status": failure.status_name}
            if failure.retry_delay:
                error["details"] = [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": failure.retry_delay}
                ]
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            self._json(failure.status, {"error": error}, headers)

        def _whole(self, reply: Reply) -> None:
            chunks = _chunks(reply)
            text = "".join(reply.chunks)
            merged = chunks[-1] if chunks else {}
            if text:
                merged["candidates"][0]["content"] = {"role": "model", "parts": [{"text": text}]}
            self._json(200, merged)

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for index, chunk in enumerate(_chunks(reply)):
                    if reply.hold is not None and index == reply.hold_after:
                        reply.hold.wait(timeout=30)
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._send_chunk(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
                if reply.cut:
                    # Drop the connection without the terminating chunk.
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    fake.finished.set()
                    return
                self._send_chunk(b"")
                fake.finished.set()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                fake.client_disconnected.set()
                self.close_connection = True

        def _send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _chunks(reply: Reply) -> list[dict]:
    chunks = []
    for index, text in enumerate(reply.chunks):
        chunks.append({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}]})
        if index == len(reply.chunks) - 1 and not reply.cut:
            chunks[-1]["candidates"][0]["finishReason"] = reply.finish
    if reply.finish and not reply.chunks and not reply.cut:
        chunks.append(
            {"candidates": [{"content": {"role": "model", "parts": []}, "index": 0, "finishReason": reply.finish}]}
        )
    if reply.safety_category and chunks:
        chunks[-1]["candidates"][0]["safetyRatings"] = [
            {"category": reply.safety_category, "probability": "HIGH", "blocked": True},
            {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        ]
    if chunks and not reply.cut:
        chunks[-1]["usageMetadata"] = {
            "promptTokenCount": reply.prompt_tokens,
            "candidatesTokenCount": reply.response_tokens,
            "totalTokenCount": reply.prompt_tokens + reply.response_tokens,
        }
    for chunk in chunks:
        chunk["modelVersion"] = "fake-gemini"
    return chunks
