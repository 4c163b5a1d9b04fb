"""A viewer in another worker: how late each token of a reply reaches it.

    python -m bench.follow --writer URL --viewer URL --token TOKEN --fake URL [--replies 5]

Each reply is sent to the writer (``POST /api/chat/send`` with ``Accept:
text/event-stream``); as soon as its ``start`` event names the chat, a
second client follows it on the viewer (``GET /api/chat/<id>/stream``), a
separate server process sharing the database and Redis. Every token the fake
model sends is ``~<seq> ``, and the fake model logs when it sent each one
(``GET /_pb/log/<rid>``), so each token's arrival at either client, stamped
with ``time.monotonic_ns()`` (one clock for every process on the host), is
compared with its send time. The same client reading the fake model directly
gives this client's own floor.
"""

import argparse
import asyncio
import json
import math
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field

import httpx

MARK = re.compile(rb"~(\d+) ")
NO_COMPRESSION = {"Accept-Encoding": "identity"}


@dataclass
class Reading:
    """One client's view of one reply: when each token first arrived."""

    marks: dict[int, int] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    status: int | None = None
    joined_ns: int | None = None

    def feed(self, data: bytes, at: int) -> None:
        start = max(0, len(self.body) - 12)
        self.body += data
        for match in MARK.finditer(self.body, start):
            self.marks.setdefault(int(match.group(1)), at)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank, as the harness reports them."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


async def _read(response: httpx.Response, reading: Reading, chat_id: asyncio.Future | None = None) -> None:
    reading.status = response.status_code
    async for data in response.aiter_raw():
        reading.feed(data, time.monotonic_ns())
        if chat_id is not None and not chat_id.done():
            found = re.search(rb"event: start\ndata: (.*)\n", reading.body)
            if found:
                chat_id.set_result(json.loads(found.group(1))["data"]["_id"])
    if chat_id is not None and not chat_id.done():
        chat_id.set_exception(RuntimeError(f"no start event (status {reading.status}): {bytes(reading.body[:200])!r}"))


def _prompt(rid: str, tokens: int, interval_ms: float) -> str:
    return f"Write a short answer. PEERBENCH rid={rid} n={tokens} ms={interval_ms:g}"


async def _send_log(client: httpx.AsyncClient, fake: str, rid: str) -> dict:
    for _ in range(100):
        log = (await client.get(f"{fake}/_pb/log/{rid}")).json()
        if log.get("complete"):
            return log
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the fake model never finished reply {rid}")


def _figures(reading: Reading, log: dict, sent_ns: int, tokens: int) -> dict:
    sends = log["send_ns"]
    latencies = [(reading.marks[i] - at) / 1e6 for i, at in enumerate(sends) if i in reading.marks]
    model_ttft = (sends[0] - log["arrival_ns"]) / 1e6 if sends else None
    first = reading.marks.get(0)
    return {
        "complete": reading.status == 200 and len(latencies) == len(sends) == tokens,
        "tokens_seen": len(latencies),
        "added_ttft_ms": (first - sent_ns) / 1e6 - model_ttft if first and model_ttft is not None else None,
        "joined_ms": (reading.joined_ns - sent_ns) / 1e6 if reading.joined_ns else None,
        "latencies_ms": latencies,
    }


async def follow_one(
    client: httpx.AsyncClient, *, writer: str, viewer: str, token: str, fake: str, tokens: int, interval_ms: float
) -> dict[str, dict]:
    """One reply written on ``writer`` and followed on ``viewer``: figures for both clients."""
    rid = "follow-" + uuid.uuid4().hex[:10]
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream", **NO_COMPRESSION}
    body = {"message": _prompt(rid, tokens, interval_ms), "chatType": "project-planning"}
    own, other = Reading(), Reading()
    chat_id: asyncio.Future = asyncio.get_running_loop().create_future()

    async def write() -> None:
        async with client.stream("POST", f"{writer}/api/chat/send", json=body, headers=headers) as response:
            await _read(response, own, chat_id)

    async def watch() -> None:
        pk = await chat_id
        other.joined_ns = time.monotonic_ns()
        async with client.stream("GET", f"{viewer}/api/chat/{pk}/stream", headers=headers) as response:
            await _read(response, other)

    sent_ns = time.monotonic_ns()
    await asyncio.gather(write(), watch())
    log = await _send_log(client, fake, rid)
    return {"writer": _figures(own, log, sent_ns, tokens), "viewer": _figures(other, log, sent_ns, tokens)}


async def direct_one(client: httpx.AsyncClient, *, fake: str, tokens: int, interval_ms: float) -> dict:
    """The same client reading the fake model itself: this client's floor."""
    rid = "floor-" + uuid.uuid4().hex[:10]
    body = {
        "model": "fake-model",
        "stream": True,
        "messages": [{"role": "user", "content": _prompt(rid, tokens, interval_ms)}],
    }
    reading = Reading()
    sent_ns = time.monotonic_ns()
    async with client.stream("POST", f"{fake}/v1/chat/completions", json=body, headers=NO_COMPRESSION) as response:
        await _read(response, reading)
    return _figures(reading, await _send_log(client, fake, rid), sent_ns, tokens)


def summary(rows: list[dict]) -> dict:
    latencies = [value for row in rows for value in row["latencies_ms"]]
    added = [row["added_ttft_ms"] for row in rows if row["added_ttft_ms"] is not None]
    joined = [row["joined_ms"] for row in rows if row.get("joined_ms") is not None]
    return {
        "replies": len(rows),
        "complete": sum(row["complete"] for row in rows),
        "added_ttft_ms": {
            "median": statistics.median(added) if added else None,
            "max": max(added, default=None),
        },
        "token_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "n": len(latencies)},
        "joined_ms": statistics.median(joined) if joined else None,
    }


async def measure(
    *, writer: str, viewer: str, token: str, fake: str, replies: int, tokens: int = 200, interval_ms: float = 20
) -> dict:
    """Floor, writer's client and viewer's client over ``replies`` sequential replies (after one warm-up)."""
    rows: dict[str, list[dict]] = {"floor": [], "writer": [], "viewer": []}
    async with httpx.AsyncClient(timeout=httpx.Timeout(120, connect=10)) as client:
        options = {"writer": writer, "viewer": viewer, "token": token, "fake": fake}
        await follow_one(client, **options, tokens=tokens, interval_ms=interval_ms)  # warm-up
        await direct_one(client, fake=fake, tokens=tokens, interval_ms=interval_ms)
        for _ in range(replies):
            rows["floor"].append(await direct_one(client, fake=fake, tokens=tokens, interval_ms=interval_ms))
            both = await follow_one(client, **options, tokens=tokens, interval_ms=interval_ms)
            rows["writer"].append(both["writer"])
            rows["viewer"].append(both["viewer"])
            await asyncio.sleep(0.3)
    return {name: summary(found) for name, found in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writer", required=True, help="base URL of the server that writes the reply")
    parser.add_argument("--viewer", required=True, help="base URL of another server process on the same site")
    parser.add_argument("--token", required=True, help="an API token of the site")
    parser.add_argument("--fake", required=True, help="base URL of peerbench's fake model")
    parser.add_argument("--replies", type=int, default=5)
    options = parser.parse_args()
    figures = asyncio.run(
        measure(
            writer=options.writer,
            viewer=options.viewer,
            token=options.token,
            fake=options.fake,
            replies=options.replies,
        )
    )
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
