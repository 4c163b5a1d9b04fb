"""A fake Sentry server for tests.

A real threaded HTTP server on 127.0.0.1 that takes what the real
``sentry-sdk`` sends (``POST /api/<project>/envelope/``, gzip or plain), so
the tests see exactly what would leave the site::

    fake_sentry = FakeSentry().start()
    sentry_init(dsn=fake_sentry.dsn, ...)
    ...
    sentry_sdk.flush()
    fake_sentry.events          # the error events, as JSON
    fake_sentry.raw             # every envelope's bytes, to grep
"""

import gzip
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENVELOPE_PATH = re.compile(r"/api/(?P<project>\w+)/envelope/")


def envelope_items(body: bytes) -> list[tuple[dict, bytes]]:
    """(item header, payload) pairs of a Sentry envelope (a header line, then each item)."""
    _, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return items


class FakeSentry:
    def __init__(self, project: str = "1"):
        self.project = project
        self._lock = threading.Lock()
        #: Each envelope as received (decompressed), in order.
        self.raw: list[bytes] = []
        #: The paths envelopes were posted to.
        self.paths: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sentry", daemon=True)

    @property
    def dsn(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://public@{host}:{port}/{self.project}"

    def start(self) -> "FakeSentry":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def events(self) -> list[dict]:
        """The error events received (not sessions, client reports or transactions)."""
        with self._lock:
            envelopes = list(self.raw)
        return [
            json.loads(payload)
            for body in envelopes
            for header, payload in envelope_items(body)
            if header.get("type") == "event"
        ]

    def _receive(self, path: str, body: bytes) -> None:
        with self._lock:
            self.paths.append(path)
            self.raw.append(body)


def _handler_for(fake: FakeSentry):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            match = ENVELOPE_PATH.fullmatch(self.path.split("?")[0])
            if match is None or match["project"] != fake.project:
                self.send_response(404)
                self.end_headers()
                return
            fake._receive(self.path, body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format, *args):
            pass

    return Handler
