"""A throwaway MongoDB server for tests: SecantusDB in its own process.

SecantusDB (a MongoDB wire-protocol server, GPL-2.0) is a development
requirement only. It is started as a separate program and spoken to over the
wire, never imported.

    python -m tests.mongo_server [--standalone] -- pytest -n 2

starts a server on a free port, waits until it answers ``ping``, runs the
command with ``DATABASE_URL`` pointing at it, and stops the server by its
process id however the command ends. Tests start their own with
``mongo_server()``.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DATABASE_NAME = "project_catalyst"
START_TIMEOUT = 30.0


def secantus_command() -> str | None:
    """The SecantusDB server program beside this Python, or on the PATH."""
    beside = Path(sys.executable).with_name("secantusd-py")
    if beside.exists():
        return str(beside)
    return shutil.which("secantusd-py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_ping(url: str, process: subprocess.Popen) -> None:
    import pymongo

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"SecantusDB exited with code {process.returncode} before answering")
        client = pymongo.MongoClient(url, serverSelectionTimeoutMS=500)
        try:
            client.admin.command("ping")
            return
        except pymongo.errors.PyMongoError:
            time.sleep(0.1)
        finally:
            client.close()
    raise RuntimeError(f"SecantusDB did not answer ping within {START_TIMEOUT:.0f} s")


@contextlib.contextmanager
def mongo_server(*, standalone: bool = False) -> Iterator[str]:
    """Run a fresh in-memory server; yield its ``mongodb://`` URL."""
    program = secantus_command()
    if program is None:
        raise RuntimeError("secantusd-py is not installed (pip install -r requirements-dev.txt)")
    port = free_port()
    command = [program, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"]
    if standalone:
        command.append("--standalone")
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"mongodb://127.0.0.1:{port}/{DATABASE_NAME}?directConnection=true"
    try:
        _wait_for_ping(url, process)
        yield url
    finally:
        process_stop(process)


def process_stop(process: subprocess.Popen) -> None:
    """End ``process`` and its children: politely, then by force."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: list[str]) -> int:
    standalone = "--standalone" in argv[: argv.index("--")] if "--" in argv else False
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    if not command:
        sys.exit("usage: python -m tests.mongo_server [--standalone] -- COMMAND …")
    # A terminated run (a CI time-out) unwinds like Ctrl-C, so the server is stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with mongo_server(standalone=standalone) as url:
        print(f"SecantusDB at {url}", flush=True)
        # Ctrl-C reaches the child too; the server is stopped on the way out.
        try:
            return subprocess.call(command, env={**os.environ, "DATABASE_URL": url})
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
