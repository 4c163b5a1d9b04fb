"""Serving in production: readiness, and a shutdown that lets replies being written save their text."""

import json
import sqlite3
import threading
import time

import httpx
import pytest

from tests.live_site import live_site
from tests.mongo_server import process_stop

pytestmark = pytest.mark.django_db


def test_ready_says_the_store_answers_and_every_migration_is_applied(client):
    response = client.get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "ok"}


def test_ready_is_503_while_a_migration_is_not_applied(client, monkeypatch):
    from catalyst import api

    monkeypatch.setattr(api, "_unapplied_migrations", lambda: ["chat.0099_future"])
    response = client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["migrations"] == "pending"


def test_ready_is_503_when_the_store_is_down(client, monkeypatch):
    from django.db import connection

    def refuse():
        raise ConnectionError("down")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    response = client.get("/api/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_a_stopped_server_saves_the_replies_it_was_writing(tmp_path):
    # The record is written only when a reply ends (every 60 s otherwise): what it holds after
    # the stop was saved by the shutdown.
    env = {"CHAT_OFFLINE_CHUNK_DELAY": "0.15", "CHAT_FLUSH_INTERVAL": "60", "CHAT_HEARTBEAT_INTERVAL": "60"}
    with live_site(tmp_path, **env) as site:
        received: list[str] = []
        started = threading.Event()

        def watch():
            with (
                httpx.Client(timeout=30) as client,
                client.stream(
                    "POST",
                    f"{site.urls[0]}/api/chat/send",
                    json={"message": "Help me plan a bakery opening with a list of steps"},
                    headers={**site.auth, "Accept": "text/event-stream"},
                ) as response,
            ):
                try:
                    for line in response.iter_lines():
                        if line.startswith("data: ") and '"text"' in line:
                            received.append(json.loads(line[6:])["text"])
                            started.set()
                except httpx.HTTPError:
                    pass  # the server went away mid-stream

        viewer = threading.Thread(target=watch, daemon=True)
        viewer.start()
        assert started.wait(20)
        time.sleep(0.5)

        began = time.monotonic()
        process_stop(site.processes[0])
        assert time.monotonic() - began < 10
        viewer.join(10)

        with sqlite3.connect(site.database) as database:
            status, kind, response = database.execute(
                'SELECT status, "errorKind", response FROM chathistories'
            ).fetchone()
        assert (status, kind) == ("interrupted", "lost")
        assert response.startswith("".join(received)) and len(response) >= len("".join(received)) > 0
