"""A fake OpenAI-compatible server for tests.

A real threaded HTTP server on 127.0.0.1 that speaks the chat completions
API (``POST /v1/chat/completions``, streamed as server-sent events or whole),
so the real ``openai`` client talks to it through ``OPENAI_BASE_URL``. It
takes the same scripts as the fake Gemini server (``Reply``, ``Failure``,
``JsonReply`` and their helpers), read as an OpenAI-compatible server would
answer: Gemini's finish reasons ``STOP``, ``MAX_TOKENS`` and ``SAFETY``
become ``stop``, ``length`` and ``content_filter``::

    fake_openai.script(Reply(["Hello", " there"]))
    fake_openai.script(Failure(429, retry_after=3), Reply(["ok"]))   # one per request
    fake_openai.requests[0].system_instruction

Servers differ: ``sends_usage`` (the usage chunk ``stream_options`` asks
for) and ``json_schema`` (the JSON schema response format; without it such
a request gets a 400, as from older local servers) can be switched off.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fake_gemini import Failure, JsonReply, Reply

FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter", None: None}


@dataclass
class ReceivedRequest:
    path: str
    body: dict
    headers: dict
    peer: tuple

    @property
    def model(self) -> str:
        return self.body.get("model", "")

    @property
    def system_instruction(self) -> str:
        return "".join(m["content"] for m in self.body.get("messages", []) if m.get("role") == "system")

    @property
    def turns(self) -> list[tuple[str, str]]:
        """The conversation as (role, text), roles named as the Gemini fake names them."""
        roles = {"assistant": "model", "user": "user"}
        return [
            (roles[m["role"]], m.get("content") or "") for m in self.body.get("messages", []) if m.get("role") in roles
        ]

    @property
    def response_format(self) -> dict | None:
        return self.body.get("response_format")

    @property
    def response_schema(self) -> dict | None:
        response_format = self.response_format or {}
        return (response_format.get("json_schema") or {}).get("schema")


class FakeOpenAI:
    def __init__(self):
        self._scripts: list = [Reply(["Hello", " from", " the model."])]
        self._structured: list = [JsonReply(text="")]
        self._lock = threading.Lock()
        self.requests: list[ReceivedRequest] = []
        self.sends_usage = True
        self.json_schema = True
        #: Set when a client hung up while a reply was still being sent.
        self.client_disconnected = threading.Event()
        #: Set when the server has sent the last chunk of a reply.
        self.finished = threading.Event()
        self.connections_closed = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAI":
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


def _handler_for(fake: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # each chunk goes out at once, as from a real server

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def finish(self):
            super().finish()
            fake._connection_closed()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error", "code": None}})
                return
            body = json.loads(raw or b"{}")
            fake._record(
                ReceivedRequest(
                    path=self.path, body=body, headers={k.lower(): v for k, v in self.headers.items()},
                    peer=self.client_address,
                )
            )  # fmt: skip
            response_format = (body.get("response_format") or {}).get("type")
            if response_format == "json_schema" and not fake.json_schema:
                message = "response_format json_schema is not supported"
                self._json(400, {"error": {"message": message, "type": "invalid_request_error", "code": None}})
                return
            script = fake._next_script(structured=response_format in ("json_schema", "json_object"))
            if isinstance(script, Failure):
                self._failure(script)
            elif isinstance(script, JsonReply):
                self._whole(Reply(chunks=[script.body] if script.body else []), body)
            elif body.get("stream"):
                self._stream(script, body)
            else:
                self._whole(script, body)

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _failure(self, failure: Failure) -> None:
            kind = {400: "invalid_request_error", 401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit"}
            error = {"message": failure.message, "type": kind.get(failure.status, "server_error"), "code": None}
            if failure.status == 400 and failure.message == "content_filter":
                error["code"] = "content_filter"
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            self._json(failure.status, {"error": error}, headers)

        def _whole(self, reply: Reply, body: dict) -> None:
            text = "".join(reply.chunks)
            finish = FINISH_REASONS.get(reply.finish, "stop")
            self._json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", ""),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                    ],
                    "usage": _usage(reply),
                },
            )

        def _stream(self, reply: Reply, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            wants_usage = (body.get("stream_options") or {}).get("include_usage") and fake.sends_usage
            try:
                # The first chunk names the role; ``hold_after`` counts the text chunks after it.
                for index, chunk in enumerate(_chunks(reply, body.get("model", ""))):
                    if reply.hold is not None and index == reply.hold_after + 1:
                        reply.hold.wait(timeout=30)
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._event(chunk)
                if reply.cut:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    fake.finished.set()
                    return
                if wants_usage:
                    self._event({**_base(body.get("model", "")), "choices": [], "usage": _usage(reply)})
                self._send_chunk(b"data: [DONE]\n\n")
                self._send_chunk(b"")
                fake.finished.set()
            except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                fake.client_disconnected.set()
                self.close_connection = True

        def _event(self, payload: dict) -> None:
            self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

        def _send_chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _base(model: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}


def _chunks(reply: Reply, model: str) -> list[dict]:
    chunks = [{**_base(model), "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    for text in reply.chunks:
        chunks.append({**_base(model), "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})
    if not reply.cut:
        finish = FINISH_REASONS.get(reply.finish, reply.finish)
        chunks.append({**_base(model), "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    return chunks


def _usage(reply: Reply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.response_tokens,
        "total_tokens": reply.prompt_tokens + reply.response_tokens,
    }
