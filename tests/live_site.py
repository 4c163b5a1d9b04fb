"""A whole site served by real uvicorn processes, for tests that span workers.

The site gets an SQLite file of its own (the test database is left alone),
production settings (``DEBUG`` off) and one account with an API token.
"""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.mongo_server import free_port, process_stop

BASE_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0


@dataclass
class LiveSite:
    urls: list[str]
    token: str
    logs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    database: Path | None = None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def log_text(self) -> str:
        return "\n".join(log.read_text() for log in self.logs)

    def send(self, message: str) -> httpx.Response:
        """``POST /api/chat/send`` as the site's user, on a new connection: with several workers,
        the kernel hands each new connection to any of them."""
        return httpx.post(
            f"{self.urls[0]}/api/chat/send",
            json={"message": message},
            headers={**self.auth, "Connection": "close"},
            timeout=30,
        )


def site_environment(folder: Path, **extra: str) -> dict:
    skip = ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CACHE_URL")
    environment = {k: v for k, v in os.environ.items() if k not in skip}
    environment.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "live-site-test-key",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
            "AI_PROVIDER": "offline",
            **extra,
        }
    )
    return environment


def _manage(environment: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def _serving(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def live_site(folder: Path, *, servers: int = 1, workers: int = 1, **env: str) -> Iterator[LiveSite]:
    """``servers`` uvicorn processes (each with ``workers`` workers) on one site, started and stopped
    as ``make serve`` does (the ASGI lifespan on, so a stop lets running replies save their text)."""
    environment = site_environment(folder, **env)
    _manage(environment, "migrate", "--noinput")
    _manage(
        {**environment, "DJANGO_SUPERUSER_PASSWORD": "live-site-password"},
        "createsuperuser",
        "--noinput",
        "--email",
        "one@example.com",
    )
    token = _manage(environment, "create_api_token", "one@example.com").strip().splitlines()[-1]
    site = LiveSite(urls=[], token=token, database=folder / "site.sqlite3")
    processes = site.processes
    try:
        for n in range(servers):
            port = free_port()
            log = folder / f"server-{n}.log"
            site.logs.append(log)
            site.urls.append(f"http://127.0.0.1:{port}")
            with log.open("w") as output:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "uvicorn", "catalyst.asgi:application", "--workers", str(workers)]
                        + ["--port", str(port), "--lifespan", "on", "--no-proxy-headers", "--no-access-log"]
                        + ["--timeout-graceful-shutdown", "5"],
                        cwd=BASE_DIR,
                        env=environment,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.monotonic() + START_TIMEOUT
        for url, log, process in zip(site.urls, site.logs, processes, strict=True):
            while not _serving(url) or log.read_text().count("Started server process") < workers:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the site did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield site
    finally:
        for process in processes:
            process_stop(process)
