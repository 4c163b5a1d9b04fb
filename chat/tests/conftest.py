"""Fixtures for the chat tests: quick intervals (the root conftest's) and a real ASGI server."""

import socket
import threading
import time

import pytest

from chat.generation import generations_stop_all


@pytest.fixture(autouse=True)
def _quick_chat(quick_chat):
    yield


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
