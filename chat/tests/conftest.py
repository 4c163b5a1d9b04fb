"""Fixtures for the chat tests: the fake Gemini server and a real ASGI server."""

import socket
import threading
import time

import pytest
from django.core.cache import cache

from chat.generation import generations_stop_all
from tests.fake_gemini import FakeGemini


@pytest.fixture(autouse=True)
def _quick_chat(settings):
    """Short intervals so streaming tests finish fast; no reply outlives its test.

    The cache is emptied first: send counts and leases are keyed by ids, which
    a fresh test database hands out again.
    """
    cache.clear()
    settings.CHAT_OFFLINE_CHUNK_DELAY = 0.001
    settings.CHAT_FLUSH_INTERVAL = 0.05
    settings.CHAT_POLL_INTERVAL = 0.05
    settings.CHAT_PROVIDER_RETRY_BACKOFF = 0.01
    # Rate windows far longer than any test, so no window boundary falls inside one.
    settings.CHAT_SEND_WINDOW = settings.CHAT_SAVE_WINDOW = 3600
    yield
    generations_stop_all()


@pytest.fixture
def fake_gemini(settings):
    """The real google-genai client talking to a local fake Gemini server."""
    server = FakeGemini().start()
    settings.AI_PROVIDER = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.GEMINI_BASE_URL = server.url
    settings.GEMINI_MODEL = "gemini-test-model"
    settings.CHAT_PROVIDER_TIMEOUT = 5
    yield server
    generations_stop_all()
    server.stop()


@pytest.fixture
def asgi_server(transactional_db):
    """``catalyst.asgi:application`` served by a real uvicorn in a thread; yields its URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config("catalyst.asgi:application", log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    generations_stop_all()
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
