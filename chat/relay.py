"""Live reply text between workers, over Redis pub/sub.

When ``CACHE_URL`` is Redis, the worker writing a reply publishes each delta
(with its offset in the reply) on the reply's channel, and a viewer served
by another worker subscribes to it. The text so far is kept beside the
channel while the reply is written, so a viewer who subscribes mid-reply
catches up at once rather than waiting for the record's next write. Without Redis, viewers elsewhere read
the record again every ``CHAT_POLL_INTERVAL`` seconds instead.
"""

import asyncio
import json
import weakref
from dataclasses import dataclass

from django.conf import settings

#: Events waiting to be published are joined into one message when Redis is slower than the model.
_CHANNEL = "chat:reply:{pk}"
_TEXT = "chat:reply-text:{pk}"
#: How long the kept text outlives a publisher that died without saying "done".
_TEXT_SECONDS = 120

_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, object]" = weakref.WeakKeyDictionary()


def enabled() -> bool:
    return settings.CACHES["default"]["BACKEND"].endswith("RedisCache")


def _client():
    """One Redis client per event loop (a client's connections belong to one loop)."""
    import redis.asyncio

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        location = settings.CACHES["default"]["LOCATION"]
        url = location[0] if isinstance(location, list | tuple) else location.split(",")[0]
        client = _clients[loop] = redis.asyncio.Redis.from_url(url)
    return client


@dataclass(frozen=True)
class Message:
    offset: int = 0
    text: str = ""
    done: bool = False
    status: str = ""


class Publisher:
    """Publishes one reply's events in order, from the loop the reply is written on."""

    def __init__(self, pk: str, text: str = "") -> None:
        self.channel = _CHANNEL.format(pk=pk)
        self.text_key = _TEXT.format(pk=pk)
        #: The reply's text before this generation's first delta (a continued reply).
        self.start = text
        self.queue: asyncio.Queue | None = None
        self.task: asyncio.Task | None = None

    def send(self, event: tuple[str, str], *, offset: int) -> None:
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._run())
        self.queue.put_nowait((*event, offset))

    async def _run(self) -> None:
        client = _client()
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            for kind, data, offset in _joined(batch):
                if kind not in ("delta", "done"):
                    continue
                try:
                    await self._publish(client, kind, data, offset)
                except Exception:  # viewers elsewhere fall back to the record
                    if kind == "done":
                        return
                    continue
                if kind == "done":
                    return

    async def _publish(self, client, kind: str, data: str, offset: int) -> None:
        """The kept text and the message change together, so a viewer never sees one without the other."""
        async with client.pipeline(transaction=True) as pipe:
            if kind == "done":
                pipe.delete(self.text_key)
                pipe.publish(self.channel, json.dumps({"done": True, "status": data}))
            else:
                if self.start is not None:
                    pipe.set(self.text_key, self.start)
                    self.start = None
                pipe.append(self.text_key, data)
                pipe.expire(self.text_key, _TEXT_SECONDS)
                pipe.publish(self.channel, json.dumps({"at": offset, "text": data}, ensure_ascii=False))
            await pipe.execute()

    async def close(self, timeout: float = 5.0) -> None:
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, timeout)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()


def _joined(batch: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    joined: list[tuple[str, str, int]] = []
    for kind, data, offset in batch:
        if kind == "delta" and joined and joined[-1][0] == "delta":
            previous = joined[-1]
            joined[-1] = ("delta", previous[1] + data, previous[2])
        else:
            joined.append((kind, data, offset))
    return joined


class Subscription:
    """Messages on one reply's channel, from the moment of subscribing."""

    def __init__(self, pk: str) -> None:
        self.channel = _CHANNEL.format(pk=pk)
        self.text_key = _TEXT.format(pk=pk)
        self.pubsub = None

    async def __aenter__(self) -> "Subscription":
        self.pubsub = _client().pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(self.channel)
        return self

    async def __aexit__(self, *exc) -> None:
        try:
            await self.pubsub.unsubscribe(self.channel)
        finally:
            await self.pubsub.aclose()

    async def text(self) -> str | None:
        """The reply's text as published so far; None when none is kept (not begun, or done)."""
        value = await _client().get(self.text_key)
        return None if value is None else value.decode()

    async def next(self, *, timeout: float) -> Message | None:
        """The next message, or None after ``timeout`` seconds without one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (left := deadline - loop.time()) > 0:
            raw = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if raw is None or raw.get("type") != "message":
                continue
            payload = json.loads(raw["data"])
            if payload.get("done"):
                return Message(done=True, status=payload.get("status", ""))
            return Message(offset=int(payload["at"]), text=payload["text"])
        return None
