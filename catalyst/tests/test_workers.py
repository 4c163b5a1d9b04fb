"""Limits hold across server processes: two uvicorn workers on one site.

A real uvicorn with ``--workers 2`` (each worker its own process, as in
production), a real ``redis-server`` and an SQLite file; requests open a fresh
connection each, so both workers take a share.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.mongo_server import free_port, process_stop

BASE_DIR = Path(__file__).resolve().parents[2]
SENDS = 40
LIMIT = 20


def _environment(tmp_path: Path, **extra: str) -> dict:
    skip = ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CACHE_URL")
    environment = {k: v for k, v in os.environ.items() if k not in skip}
    environment.update(
        DEBUG="0",
        SECRET_KEY="workers-test-key",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        AI_PROVIDER="offline",
        CHAT_OFFLINE_CHUNK_DELAY="0",
        CHAT_SEND_LIMIT=str(LIMIT),
        # A window longer than the test, so no boundary falls inside it.
        CHAT_SEND_WINDOW="86400",
        **extra,
    )
    return environment


def _manage(environment: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _sends_accepted(tmp_path: Path, **extra: str) -> tuple[int, str]:
    """Start two workers, send SENDS messages as one user; (accepted, server log)."""
    environment = _environment(tmp_path, **extra)
    environment["DJANGO_SUPERUSER_PASSWORD"] = "workers-test-password"
    _manage(environment, "migrate", "--noinput")
    _manage(environment, "createsuperuser", "--noinput", "--email", "one@example.com")
    token = _manage(environment, "create_api_token", "one@example.com").strip().splitlines()[-1]
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "catalyst.asgi:application", "--workers", "2"]
            + ["--port", str(port), "--lifespan", "off", "--no-proxy-headers", "--no-access-log"],
            cwd=BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not _serving(url) or log.read_text().count("Started server process") < 2:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"the workers did not start:\n{log.read_text()}")
            time.sleep(0.1)
        accepted = 0
        for n in range(SENDS):
            # A new connection each time, so the kernel hands them to either worker.
            response = httpx.post(
                f"{url}/api/chat/send",
                json={"message": f"Message {n}"},
                headers={"Authorization": f"Bearer {token}", "Connection": "close"},
                timeout=30,
            )
            assert response.status_code in (200, 429), response.text
            accepted += response.status_code == 200
        return accepted, log.read_text()
    finally:
        process_stop(server)


@pytest.mark.django_db  # the test database is left alone; the site has its own file
def test_with_redis_two_workers_share_one_send_limit(tmp_path, redis_url):
    accepted, server_log = _sends_accepted(tmp_path, CACHE_URL=redis_url)

    assert accepted == LIMIT
    assert "Several workers share no cache" not in server_log


def test_without_a_shared_cache_two_workers_warn_and_each_count_alone(tmp_path):
    accepted, server_log = _sends_accepted(tmp_path)

    # The control: each worker allowed its own twenty, which is why Redis is needed.
    assert accepted > LIMIT
    assert server_log.count("Several workers share no cache") == 2
