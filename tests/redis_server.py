"""A throwaway Redis for tests: Debian's ``redis-server`` on a free port."""

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator

from tests.mongo_server import free_port, process_stop

START_TIMEOUT = 10.0


def redis_command() -> str | None:
    return shutil.which("redis-server")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Run a fresh, memory-only Redis; yield its ``redis://`` URL."""
    import redis

    program = redis_command()
    if program is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                redis.Redis.from_url(url, socket_timeout=0.5).ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not answer ping") from None
                time.sleep(0.05)
        yield url
    finally:
        process_stop(process)
