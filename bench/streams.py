"""Stream benchmarks: what the app adds to a streamed reply, on the peerbench harness.

    PEERBENCH=<folder of the peerbench harness> make bench
    PEERBENCH=<folder> python -m bench.streams [--replies 10] [--levels 1,10,50,100,200,500] [--out FILE]

``PEERBENCH`` names the folder holding peerbench's ``harness.py``,
``fake_openai.py`` and ``adapters/``; nothing of it is copied into this
project. The run seeds a throwaway SQLite site (``DEBUG`` off), starts
peerbench's fake model (it speaks the Gemini REST dialect, so the real
``google-genai`` client talks to it) and one uvicorn worker pointed at it,
then runs, on loopback only:

* the floor: the harness reading the fake model directly (``stream`` and
  ``capacity``), the same run, the same machine;
* the app: one stream at a time (``--pid`` for its CPU), ``capacity`` at each
  level with a bystander ``GET /api/health``, ``history`` at two sizes while
  sampling the worker's memory, and the page's path (log-in, the HTMX send,
  the page's event stream);
* a worker with a low ``CHAT_MAX_STREAMS``, to see the send past it refused;
* two server processes sharing the database and Redis, where a viewer follows
  on one a reply written by the other (``bench.follow``).

It prints one table, each figure against its goal, and exits non-zero when
a goal is missed. Every process it starts is stopped when it ends, however
it ends. With ``--profile DIR`` (and py-spy installed) it also samples the
worker during one-at-a-time streams and during 200 at once.
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.follow import measure as follow_measure
from bench.run import free_port
from bench.seed import USER_EMAIL, USER_PASSWORD

BASE_DIR = Path(__file__).resolve().parent.parent
TOKENS = 200
INTERVAL_MS = 20
LEVELS = "1,10,50,100,200,500"
STREAM_CAP = 4  # CHAT_MAX_STREAMS of the worker that checks the refusal
CAP_TRIES = 5
PARTS = ("stream", "page", "capacity", "history", "cap", "follow")
HARNESS_TIMEOUT = 900  # seconds, for any one harness run


class Processes:
    """Processes started by this run, each in a process group of its own, stopped by their ids."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        output = (self.logs / f"{name}.log").open("w")
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output.close()
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen, how: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, how)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def _ended_by_signal(signum, frame):
    raise SystemExit(f"Stopped by signal {signum}.")


def log_line(text: str) -> None:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"[{time.strftime('%H:%M:%S')}] {text} (load {load})", file=sys.stderr, flush=True)


# --- The site ------------------------------------------------------------------------


def site_environment(folder: Path, **extra: str) -> dict:
    skip = ("DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "CACHE_URL", "PEERBENCH")
    environment = {key: value for key, value in os.environ.items() if key not in skip}
    environment.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'site.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "catalyst.settings",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SECURE_COOKIES": "0",
            "SECURE_SSL_REDIRECT": "0",
            "LOG_LEVEL": "WARNING",
            "CHAT_SEND_LIMIT": "1000000",
            "CHAT_SAVE_LIMIT": "1000000",
            "CHAT_MAX_STREAMS": "1000",
            **extra,
        }
    )
    return environment


def run_quietly(command: list[str], env: dict, timeout: float = 600) -> str:
    done = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def site_create(env: dict) -> str:
    """Migrate, collect static files, create the bench account; its API token."""
    python = sys.executable
    run_quietly([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    run_quietly([python, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    run_quietly([python, "-m", "bench.seed", "0", "0", "0"], env)
    return run_quietly([python, "manage.py", "create_api_token", USER_EMAIL], env).strip().splitlines()[-1]


def uvicorn_start(processes: Processes, name: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "catalyst.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-proxy-headers", "--lifespan", "off", "--no-access-log"]
    command += ["--log-level", "warning"]
    process = processes.start(name, command, env)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/api/health", process, processes.logs / f"{name}.log")
    return process, url


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer within {timeout} seconds.")


def redis_start(processes: Processes) -> str:
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("The two-worker run needs redis-server (apt-get install redis-server).")
    port = free_port()
    command = [program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    processes.start("redis", command, dict(os.environ))
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=0.5).ping()
            return url
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not answer ping.") from None
            time.sleep(0.05)


# --- The harness ---------------------------------------------------------------------


class Harness:
    def __init__(self, folder: Path, work: Path, fake_url: str) -> None:
        self.folder = folder
        self.work = work
        self.fake_url = fake_url
        self.runs = 0

    def adapter(self, name: str, base_url: str) -> Path:
        """A copy of one of the harness's adapters, pointed at ``base_url``."""
        text = (self.folder / "adapters" / name).read_text()
        # The base URL also appears in headers (HX-Current-URL): move it everywhere.
        text = text.replace(json.loads(text)["base_url"], base_url)
        copy = self.work / f"{Path(name).stem}-{base_url.rsplit(':', 1)[-1]}.json"
        copy.write_text(text)
        return copy

    def run(self, mode: str, adapter: Path, *args: str) -> dict:
        self.runs += 1
        out = self.work / f"harness-{self.runs}-{mode}.json"
        command = [sys.executable, str(self.folder / "harness.py"), mode, "--adapter", str(adapter)]
        command += ["--fake", self.fake_url, "--tokens", str(TOKENS), "--interval-ms", str(INTERVAL_MS)]
        command += [*args, "--out", str(out)]
        log = self.work / f"harness-{self.runs}-{mode}.log"
        with log.open("w") as output:
            done = subprocess.run(
                command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=HARNESS_TIMEOUT
            )
        if done.returncode != 0 or not out.exists():
            raise SystemExit(f"The harness failed ({mode}):\n{log.read_text()[-3000:]}")
        return json.loads(out.read_text())[mode]


class MemoryWatch:
    """Largest resident size of a process while the block runs, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self.before_kb = self.resident_kb()

    def resident_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def __enter__(self) -> "MemoryWatch":
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.done.wait(0.05):
            with contextlib.suppress(OSError):
                self.peak_kb = max(self.peak_kb, self.resident_kb())

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()
        self.after_kb = self.resident_kb()

    def figures(self) -> dict:
        return {"before_kb": self.before_kb, "peak_kb": self.peak_kb, "after_kb": self.after_kb}


class Profiler:
    """py-spy sampling one process while the block runs; collapsed stacks into ``output``."""

    def __init__(self, processes: Processes, pid: int, output: Path) -> None:
        self.processes, self.pid, self.output = processes, pid, output

    def __enter__(self) -> "Profiler":
        program = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [program, "record", "--pid", str(self.pid), "--rate", "200", "--format", "raw"]
        command += ["--threads", "--nonblocking", "--output", str(self.output)]
        self.process = self.processes.start(self.output.stem, command, dict(os.environ))
        time.sleep(1)
        return self

    def __exit__(self, *exc) -> None:
        self.processes.stop(self.process, signal.SIGINT)


# Leaf frames of a thread that waits (py-spy cannot always tell idle threads apart here).
IDLE_FRAMES = (
    "EpollSelector.select",
    "Condition.wait",
    "_worker (concurrent/futures/thread.py:81)",
    "Thread._wait_for",
)
APP_PACKAGES = ("accounts/", "catalyst/", "chat/", "projects/")


def profile_summary(stacks: Path, top: int = 15) -> str:
    """Where a worker's busy samples go: by thread, function and package (own time), and app function (within)."""
    threads: Counter = Counter()
    functions: Counter = Counter()
    packages: Counter = Counter()
    app: Counter = Counter()
    busy = idle = 0
    for line in stacks.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if len(frames) < 2 or frames[-1].startswith(IDLE_FRAMES):
            idle += int(count or 0)
            continue
        samples = int(count)
        busy += samples
        threads[re.sub(r"[-_]\d+|\s*\(\d+\)", "", frames[0].split(": ", 1)[-1])] += samples
        functions[frames[-1]] += samples
        packages[_package_of(frames[-1])] += samples
        for frame in {f"{frame.split(' (')[0]} ({_path_of(frame)})" for frame in frames[1:]}:
            if _path_of(frame).startswith(APP_PACKAGES):
                app[frame] += samples
    if not busy:
        return "no busy samples"
    lines = [f"{busy} busy samples ({idle} idle left out); shares of the busy ones"]
    for title, counter in (
        ("thread", threads),
        ("function, own time", functions),
        ("package, own time", packages),
        ("app function, anywhere on the stack", app),
    ):
        lines.append(f"by {title}:")
        lines += [f"  {100 * n / busy:5.1f}%  {name}" for name, n in counter.most_common(top)]
    return "\n".join(lines)


def _path_of(frame: str) -> str:
    return frame.rpartition("(")[2].rstrip(")").rsplit(":", 1)[0]


def _package_of(frame: str) -> str:
    path = _path_of(frame)
    return path.split("/", 1)[0] if "/" in path else path.removesuffix(".py")


# --- The cap on streams ----------------------------------------------------------------


async def cap_check(url: str, token: str, fake: str) -> dict:
    """With CHAT_MAX_STREAMS replies running, one more send: its status, Retry-After and time."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream", "Accept-Encoding": "identity"}
    started = asyncio.Event()
    begun = 0

    async def one(n: int) -> None:
        nonlocal begun
        body = {
            "message": f"Hold on. PEERBENCH rid=cap{n}-{time.time_ns()} n=150 ms=20",
            "chatType": "project-planning",
        }
        async with client.stream("POST", f"{url}/api/chat/send", json=body, headers=headers) as response:
            async for data in response.aiter_raw():
                if b"event: start" in data and not started.is_set():
                    begun += 1
                    if begun == STREAM_CAP:
                        started.set()

    async with httpx.AsyncClient(timeout=30) as client:
        running = [asyncio.create_task(one(n)) for n in range(STREAM_CAP)]
        await asyncio.wait_for(started.wait(), 30)
        body = {"message": "One more. PEERBENCH n=5 ms=1", "chatType": "project-planning"}
        refusals, healths = [], []
        for _ in range(CAP_TRIES):
            start = time.perf_counter()
            refused = await client.post(f"{url}/api/chat/send", json=body, headers=headers)
            refusals.append((time.perf_counter() - start, refused))
            start = time.perf_counter()
            await client.get(f"{url}/api/health")
            healths.append(time.perf_counter() - start)
        await asyncio.gather(*running)
        await asyncio.sleep(0.5)
        after = await client.post(f"{url}/api/chat/send", json=body, headers={"Authorization": f"Bearer {token}"})
    statuses = sorted({response.status_code for _, response in refusals})
    return {
        "statuses": statuses,
        "status": statuses[0] if len(statuses) == 1 else None,
        "retry_after": refusals[0][1].headers.get("Retry-After"),
        "error": refusals[0][1].json().get("error"),
        "ms": statistics.median(seconds for seconds, _ in refusals) * 1000,
        "health_ms": statistics.median(healths) * 1000,
        "after_status": after.status_code,
    }


# --- The table ---------------------------------------------------------------------------


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _level(capacity: dict, k: int) -> dict:
    return next((level for level in capacity["levels"] if level["K"] == k), {})


@dataclass
class Row:
    what: str
    app: str
    floor: str = ""
    versus: str = ""
    goal: str = ""
    met: bool | None = None


def figures_table(found: dict) -> list[Row]:
    """Each figure beside the floor's and its goal."""
    rows: list[Row] = []
    if "stream" in found:
        rows += _stream_rows(found["stream"], found["floor_stream"])
    if "page_stream" in found:
        rows += _page_rows(found["page_stream"], found["floor_stream"])
    if "capacity" in found:
        for k in sorted(level["K"] for level in found["capacity"]["levels"]):
            rows += _level_rows(k, _level(found["capacity"], k), _level(found["floor_capacity"], k))
    if "cap" in found:
        rows += _cap_rows(found["cap"])
    if "history_small" in found:
        rows += _history_rows(found["history_small"], found["history_large"])
    if "follow" in found:
        rows += _follow_rows(found["follow"])
    return rows


def _stream_rows(one: dict, floor: dict) -> list[Row]:
    rows: list[Row] = []
    added, floor_added = one["added_ttft_ms"]["median"], floor["added_ttft_ms"]["median"]
    rows.append(
        Row(
            "1 stream: added first token (median)",
            _ms(added),
            _ms(floor_added),
            f"+{_ms(added - floor_added)}",
            "≤ +10 ms",
            added - floor_added <= 10,
        )
    )
    cpu = one["cpu"]["app_cpu_s"] / one["replies"]
    rows.append(Row("1 stream: worker CPU per 200-token reply", f"{cpu:.3f} s", goal="≤ 0.05 s", met=cpu <= 0.05))
    p99, floor_p99 = one["token_latency_ms"]["p99"], floor["token_latency_ms"]["p99"]
    rows.append(
        Row("1 stream: per-token p99", _ms(p99), _ms(floor_p99), f"+{_ms(p99 - floor_p99)}", "≤ 1.5 ms", p99 <= 1.5)
    )
    ratio = one["wire_ratio"]["median"]
    rows.append(Row("wire bytes ÷ reply text (JSON API)", f"{ratio:.2f}×", goal="≤ 3×", met=ratio <= 3))
    return rows


def _page_rows(page: dict, floor: dict) -> list[Row]:
    rows: list[Row] = []
    floor_added, floor_p99 = floor["added_ttft_ms"]["median"], floor["token_latency_ms"]["p99"]
    page_added = page["added_ttft_ms"]["median"]
    rows.append(
        Row(
            "1 stream, page path: added first token (median)",
            _ms(page_added),
            _ms(floor_added),
            f"+{_ms(page_added - floor_added)}",
        )
    )
    page_p99 = page["token_latency_ms"]["p99"]
    rows.append(
        Row("1 stream, page path: per-token p99", _ms(page_p99), _ms(floor_p99), f"+{_ms(page_p99 - floor_p99)}")
    )
    page_cpu = page["cpu"]["app_cpu_s"] / page["replies"]
    rows.append(Row("1 stream, page path: worker CPU per reply", f"{page_cpu:.3f} s"))
    ratio = page["wire_ratio"]["median"]
    rows.append(Row("wire bytes ÷ reply text (page)", f"{ratio:.2f}×", goal="≤ 3×", met=ratio <= 3))
    return rows


def _cap_rows(cap: dict) -> list[Row]:
    return [
        Row(
            f"send past CHAT_MAX_STREAMS={STREAM_CAP}",
            f"{cap['statuses']}, Retry-After {cap['retry_after']}, in {_ms(cap['ms'])} (median)",
            versus=f"health {_ms(cap['health_ms'])}",
            goal="503 + Retry-After in ≤ 100 ms",
            met=cap["status"] == 503 and bool(cap["retry_after"]) and cap["ms"] <= 100,
        )
    ]


def _history_rows(small: dict, large: dict) -> list[Row]:
    rows: list[Row] = []
    for history in (small, large):
        listed, summary = history["one_response"]["list"], history["summary"]
        rows.append(
            Row(
                f"history API at {history['chats']} chats: list, default page",
                f"{listed['items']} items, {summary['list_rps']['median']} req/s",
                f"health {summary['baseline_rps']['median']} req/s",
                f"{summary['list_over_baseline']['median']:.2f}×",
                "pages by default",
                listed["items"] is not None and listed["items"] < history["chats"],
            )
        )
        memory = history["memory"]
        rows.append(
            Row(
                f"history API at {history['chats']} chats: worker memory",
                f"peak {memory['peak_kb'] / 1024:.0f} MB",
                versus=f"before {memory['before_kb'] / 1024:.0f} MB",
            )
        )
    growth = (large["memory"]["peak_kb"] - small["memory"]["peak_kb"]) / 1024
    rows.append(
        Row("history API: peak memory, large − small", f"{growth:+.0f} MB", goal="flat (≤ +10 MB)", met=growth <= 10)
    )
    return rows


def _follow_rows(follow: dict) -> list[Row]:
    rows: list[Row] = []
    for name, label in (("writer", "the sender's own stream"), ("viewer", "a viewer in the other worker")):
        figures, base = follow[name], follow["floor"]
        added, floor_added = figures["added_ttft_ms"]["median"], base["added_ttft_ms"]["median"]
        rows.append(
            Row(
                f"2 workers + Redis, {label}: added first token (median)",
                f"{_ms(added)} ({figures['complete']}/{figures['replies']} complete)",
                _ms(floor_added),
                f"+{_ms(added - floor_added)}",
            )
        )
        rows.append(
            Row(
                f"2 workers + Redis, {label}: per-token p50 / p99",
                f"{_ms(figures['token_ms']['p50'])} / {_ms(figures['token_ms']['p99'])}",
                f"{_ms(base['token_ms']['p50'])} / {_ms(base['token_ms']['p99'])}",
            )
        )
    return rows


def _level_rows(k: int, level: dict, base: dict) -> list[Row]:
    goal = k == 200
    rows = [
        Row(
            f"{k} at once: complete (most upstream at once)",
            f"{level['complete']}/{k} ({level['fake_max_live']})",
            f"{base.get('complete')}/{k}",
            goal="all" if k in (200, 500) else "",
            met=level["complete"] == k if k in (200, 500) else None,
        )
    ]
    added, floor_added = level["added_ttft_ms"].get("median"), base.get("added_ttft_ms", {}).get("median")
    if added is not None:
        rows.append(
            Row(
                f"{k} at once: added first token (median)",
                _ms(added),
                _ms(floor_added),
                f"+{_ms(added - floor_added)}" if floor_added is not None else "",
                "≤ 1 s" if goal else "",
                added <= 1000 if goal else None,
            )
        )
    p99 = level["token_latency_ms"].get("p99")
    if p99 is not None:
        rows.append(
            Row(
                f"{k} at once: per-token p99",
                _ms(p99),
                _ms(base.get("token_latency_ms", {}).get("p99")),
                goal="≤ 100 ms" if goal else "",
                met=p99 <= 100 if goal else None,
            )
        )
    bystander = level.get("bystander_ms", {}).get("p99")
    rows.append(
        Row(
            f"{k} at once: bystander /api/health p99",
            _ms(bystander),
            _ms(base.get("bystander_ms", {}).get("p99")),
            f"idle {_ms(level['bystander_idle']['latency_ms'].get('p99'))}",
            "≤ 100 ms" if goal else "",
            (bystander is not None and bystander <= 100) if goal else None,
        )
    )
    cpu = level["cpu"].get("app_cpu_s")
    if cpu is not None and level["complete"]:
        rows.append(Row(f"{k} at once: worker CPU per reply, with the bystander's", f"{cpu / level['complete']:.3f} s"))
    return rows


def table_print(rows: list[Row]) -> None:
    headers = Row("measure", "app", "floor", "app vs floor", "goal")
    names = ("what", "app", "floor", "versus", "goal")
    widths = {name: max(len(getattr(row, name)) for row in [headers, *rows]) for name in names}
    for row in [headers, *rows]:
        verdict = {True: "pass", False: "MISSED", None: ""}[row.met]
        print("  ".join(getattr(row, name).ljust(widths[name]) for name in names) + "  " + verdict)


# --- The run ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peerbench", default=os.environ.get("PEERBENCH", ""), help="default: $PEERBENCH")
    parser.add_argument("--replies", type=int, default=10, help="one-at-a-time replies per path")
    parser.add_argument("--levels", default=LEVELS, help="streams at once, per capacity level")
    parser.add_argument("--history-seconds", type=float, default=5.0, help="per history phase")
    parser.add_argument("--history-large", type=int, default=20000, help="chats for the second history run")
    parser.add_argument("--follow-replies", type=int, default=5)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which to run, of {','.join(PARTS)}")
    parser.add_argument(
        "--provider",
        choices=("gemini", "openai"),
        default="gemini",
        help="which client the app reads the fake model with (its Gemini or its OpenAI dialect)",
    )
    parser.add_argument("--minutes", type=float, default=40, help="the whole run stops after this long")
    parser.add_argument("--profile", type=Path, help="also sample the worker with py-spy; stacks go here")
    parser.add_argument("--out", type=Path, help="write every figure as JSON here")
    parser.add_argument("--logs", type=Path, help="keep the servers' and the harness's logs here")
    options = parser.parse_args()
    folder = Path(options.peerbench) if options.peerbench else None
    if folder is None or not (folder / "harness.py").exists():
        raise SystemExit("Set PEERBENCH to the folder that holds peerbench's harness.py and fake_openai.py.")

    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, _ended_by_signal)
    signal.alarm(int(options.minutes * 60))
    with contextlib.suppress(ValueError, OSError):  # 500 streams need more than 1024 descriptors
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with tempfile.TemporaryDirectory(prefix="catalyst-bench-") as work:
        work = Path(work)
        processes = Processes(work)
        try:
            found = measure_all(options, folder, work, processes)
        finally:
            processes.stop_all()
            signal.alarm(0)
            if options.logs:
                options.logs.mkdir(parents=True, exist_ok=True)
                for log in work.glob("*.log"):
                    shutil.copy(log, options.logs / log.name)
    if options.out:
        options.out.write_text(json.dumps(found, indent=1))
    print(f"Stream benchmarks, {found['date']}, {found['cores']} cores, load average {found['load']}")
    rows = figures_table(found)
    table_print(rows)
    missed = [row.what for row in rows if row.met is False]
    if missed:
        raise SystemExit(f"Goals missed: {'; '.join(missed)}")


def measure_all(options, folder: Path, work: Path, processes: Processes) -> dict:
    found: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}
    parts = set(options.parts.split(","))
    loads = [os.getloadavg()[0]]
    fake_port = free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    fake_command = [sys.executable, str(folder / "fake_openai.py"), "--port", str(fake_port)]
    fake_command += ["--tokens", str(TOKENS), "--interval-ms", str(INTERVAL_MS)]
    fake_command += ["--max-seconds", str(int(options.minutes * 60) + 60), "--max-logs", "50000"]
    fake = processes.start("fake-model", fake_command, dict(os.environ))
    wait_for(fake_url + "/v1/models", fake, work / "fake-model.log")
    harness = Harness(folder, work, fake_url)

    if options.provider == "openai":
        model = {"AI_PROVIDER": "openai", "OPENAI_BASE_URL": fake_url + "/v1", "OPENAI_MODEL": "fake-model"}
    else:
        model = {"AI_PROVIDER": "gemini", "GEMINI_API_KEY": "bench", "GEMINI_BASE_URL": fake_url}
    found["provider"] = options.provider
    env = site_environment(work, **model, CHAT_MAX_STREAMS="1000")
    log_line("Seeding the site")
    token = site_create(env)
    app, url = uvicorn_start(processes, "app", env)
    found["app_pid"] = app.pid
    token_var = ("--var", f"token={token}")
    page_vars = ("--var", f"email={USER_EMAIL}", "--var", f"password={USER_PASSWORD}")
    direct = harness.adapter("direct.json", fake_url)
    api = harness.adapter("catalyst.json", url)
    page = harness.adapter("catalyst_page.json", url)
    pid = ("--pid", f"app={app.pid}")
    replies = ("--replies", str(options.replies))

    if parts & {"stream", "page"}:
        log_line("Floor: one stream at a time")
        found["floor_stream"] = harness.run("stream", direct, *replies)
    if "stream" in parts:
        log_line("App: one stream at a time (JSON API)")
        found["stream"] = harness.run("stream", api, *token_var, *replies, *pid)
    if "page" in parts:
        log_line("App: one stream at a time (the page)")
        found["page_stream"] = harness.run("stream", page, *page_vars, *replies, *pid)
    loads.append(os.getloadavg()[0])
    if "capacity" in parts:
        log_line(f"Floor: capacity {options.levels}")
        found["floor_capacity"] = harness.run("capacity", direct, "--levels", options.levels, "--timeout", "300")
        log_line(f"App: capacity {options.levels}")
        found["capacity"] = harness.run(
            "capacity", api, *token_var, "--levels", options.levels, "--timeout", "300", *pid
        )
        loads.append(os.getloadavg()[0])

    if "history" in parts:
        # A fresh worker, so that its memory tells about the history API and not about the streams before.
        processes.stop(app)
        app, url = uvicorn_start(processes, "app-history", env)
        api = harness.adapter("catalyst.json", url)
        pid = ("--pid", f"app={app.pid}")
        history_args = ("--conns", "16", "--seconds", str(options.history_seconds), "--rounds", "1", *pid)
        log_line("App: history at 200 chats")
        with MemoryWatch(app.pid) as memory:
            found["history_small"] = harness.run("history", api, *token_var, "--chats", "200", *history_args)
        found["history_small"].update(chats=200, memory=memory.figures())
        log_line(f"Seeding {options.history_large} more chats")
        run_quietly([sys.executable, "-m", "bench.seed", "chats", USER_EMAIL, str(options.history_large)], env)
        log_line(f"App: history at {options.history_large + 220} chats")
        with MemoryWatch(app.pid) as memory:
            found["history_large"] = harness.run("history", api, *token_var, "--chats", "20", *history_args)
        found["history_large"].update(chats=options.history_large + 220, memory=memory.figures())
        loads.append(os.getloadavg()[0])

    if options.profile:
        options.profile.mkdir(parents=True, exist_ok=True)
        log_line("Profiling: one stream at a time")
        with Profiler(processes, app.pid, options.profile / "one-stream.txt"):
            harness.run("stream", api, *token_var, *replies)
        log_line("Profiling: 200 streams at once")
        with Profiler(processes, app.pid, options.profile / "200-streams.txt"):
            harness.run("capacity", api, *token_var, "--levels", "200", "--idle-s", "0.5", "--timeout", "300")
        for name in ("one-stream", "200-streams"):
            summary = profile_summary(options.profile / f"{name}.txt")
            (options.profile / f"{name}-summary.txt").write_text(summary + "\n")
            print(f"--- profile: {name}\n{summary}", file=sys.stderr)
    processes.stop(app)

    if "cap" in parts:
        log_line(f"A worker with CHAT_MAX_STREAMS={STREAM_CAP}")
        capped, capped_url = uvicorn_start(processes, "capped", {**env, "CHAT_MAX_STREAMS": str(STREAM_CAP)})
        found["cap"] = asyncio.run(cap_check(capped_url, token, fake_url))
        processes.stop(capped)

    if "follow" in parts:
        log_line("Two server processes sharing the database and Redis")
        shared = {**env, "CACHE_URL": redis_start(processes)}
        writer, writer_url = uvicorn_start(processes, "writer", shared)
        viewer, viewer_url = uvicorn_start(processes, "viewer", shared)
        found["follow"] = asyncio.run(
            follow_measure(
                writer=writer_url, viewer=viewer_url, token=token, fake=fake_url, replies=options.follow_replies
            )
        )
        loads.append(os.getloadavg()[0])
    found["load"] = " → ".join(f"{value:.1f}" for value in loads)
    log_line("Done")
    return found


if __name__ == "__main__":
    main()
