"""Benchmark harness: latency and throughput of the hot pages, as ratios.

    make bench            # or: python -m bench.run [--requests 200]

Serves the app with uvicorn (DEBUG off, offline assistant) on a throwaway
SQLite database seeded with 50 projects × 20 tasks and 200 chats, then times
each page against ``GET /api/health`` on the same server in the same run.
Ratios, not seconds, are what we compare: they hold across machines. It also
times the chat page's first page for an account with 100 chats and for one
with ``--scale-chats`` (100,000), turn about, and reports the ratio. A page
over its budget makes the run exit non-zero.

The stream benchmarks (what the app adds to a streamed reply) are
``bench/streams.py``; they need the peerbench harness (see bench/README.md).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.seed import USER_EMAIL, USER_PASSWORD

BASE_DIR = Path(__file__).resolve().parent.parent
# Median latency of a page divided by that of /api/health, at most.
LATENCY_BUDGETS = {"dashboard": 25.0, "project list": 25.0, "project detail": 25.0, "planning chat": 25.0}
# The chat page's first page with --scale-chats chats over its time with SMALL_CHATS, at most.
SCALE_BUDGET = 1.5
SMALL_CHATS = 100
SCALE_PASSWORD = "bench-password-2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("The server did not start.")


def log_in(base: str, email: str = USER_EMAIL, password: str = USER_PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        data={"username": email, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": base + "/accounts/login/"},
    )
    if response.status_code != 302:
        raise SystemExit(f"Log-in failed with {response.status_code}.")
    return client


def latencies(client: httpx.Client, path: str, count: int) -> list[float]:
    for _ in range(5):  # warm up
        client.get(path)
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}.")
    return timings


def throughput(client: httpx.Client, path: str, count: int, workers: int = 4) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda _: client.get(path), range(count)))
    return count / (time.perf_counter() - start)


def scale_medians(clients: dict[str, httpx.Client], path: str, rounds: int) -> dict[str, float]:
    """Median time of ``path`` for each client, asked turn about so that noise falls on both alike."""
    for client in clients.values():
        for _ in range(5):  # warm up
            client.get(path)
    timings: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(rounds):
        for name, client in clients.items():
            start = time.perf_counter()
            response = client.get(path)
            timings[name].append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}.")
    return {name: statistics.median(found) for name, found in timings.items()}


def stream_first_token_ratio(client: httpx.Client) -> float | None:
    """Time to the first streamed event over time to the end of the reply."""
    start = time.perf_counter()
    first = None
    with client.stream(
        "POST",
        "/api/chat/send",
        json={"message": "What should I do next?", "chatType": "project-planning"},
        headers={"Accept": "text/event-stream", "X-CSRFToken": client.cookies["csrftoken"]},
    ) as response:
        if response.status_code != 200:
            return None
        for line in response.iter_lines():
            if line.startswith("data:") and first is None:
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    return None if first is None else first / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--scale-chats", type=int, default=100_000, help="chats of the large account (0: skip)")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
            "AI_PROVIDER": "offline",
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "catalyst.settings",
        }
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        subprocess.run([sys.executable, "-m", "bench.seed", "50", "20", "200"], cwd=BASE_DIR, env=env, check=True)
        scale = {"small": SMALL_CHATS, "large": options.scale_chats} if options.scale_chats else {}
        for name, count in scale.items():
            email = f"{name}@bench.example.com"
            for args in (("user", email, SCALE_PASSWORD), ("chats", email, str(count))):
                subprocess.run([sys.executable, "-m", "bench.seed", *args], cwd=BASE_DIR, env=env, check=True)
        project_id = manage(
            env, "shell", "-v0", "-c", "from projects.models import Project; print(Project.objects.first().pk)"
        ).split()[-1]
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "catalyst.asgi:application",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--lifespan",
                "off",
            ],
            cwd=BASE_DIR,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(base + "/api/health")
            client = log_in(base)
            pages = {
                "health": "/api/health",
                "dashboard": "/",
                "project list": "/projects/",
                "project detail": f"/projects/{project_id}/",
                "planning chat": "/chat/",
            }
            medians = {
                name: statistics.median(latencies(client, path, options.requests)) for name, path in pages.items()
            }
            base_rps = throughput(client, "/api/health", options.requests)
            print(f"{'page':<16}{'median ms':>10}{'× health':>10}{'rps × health':>14}{'budget':>8}")
            failed = []
            for name, path in pages.items():
                ratio = medians[name] / medians["health"]
                rps_ratio = throughput(client, path, options.requests) / base_rps
                budget = LATENCY_BUDGETS.get(name)
                print(f"{name:<16}{medians[name] * 1000:>10.1f}{ratio:>10.1f}{rps_ratio:>14.2f}{budget or '':>8}")
                if budget and ratio > budget:
                    failed.append(name)
            ratio = stream_first_token_ratio(client)
            if ratio is not None:
                print(f"chat stream: first event after {ratio:.0%} of the whole reply's time")
            if scale:
                clients = {name: log_in(base, f"{name}@bench.example.com", SCALE_PASSWORD) for name in scale}
                medians = scale_medians(clients, "/chat/", options.requests)
                ratio = medians["large"] / medians["small"]
                print(
                    f"chat page, first page: {scale['small']:,} chats {medians['small'] * 1000:.1f} ms, "
                    f"{scale['large']:,} chats {medians['large'] * 1000:.1f} ms: {ratio:.2f}× (budget {SCALE_BUDGET}×)"
                )
                if ratio > SCALE_BUDGET:
                    failed.append(f"chat page at {scale['large']:,} chats")
        finally:
            server.terminate()
            server.wait(10)
    if failed:
        raise SystemExit(f"Over budget: {', '.join(failed)}")


if __name__ == "__main__":
    main()
