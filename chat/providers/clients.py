"""Model clients shared by the replies on one event loop (``ClientPool``)."""

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

C = TypeVar("C")


@dataclass(eq=False)
class _SharedClient:
    client: Any
    loop: asyncio.AbstractEventLoop
    options: tuple
    users: int = 0
    retired: bool = False


class ClientPool(Generic[C]):
    """One model client per event loop and set of options, shared by the replies on that loop.

    Building a client loads the CA store into SSL contexts and opens fresh
    connections, which cost more CPU than streaming a short reply. A client's
    async connection pool belongs to the loop that opened it, so each client is
    used and closed on one loop only (``aclose``), when it is retired and no
    reply is using it; one left on a loop that has closed is closed as it can
    be from any thread (``close``).
    """

    def __init__(
        self,
        *,
        build: Callable[..., C],
        aclose: Callable[[C], Awaitable[None]],
        close: Callable[[C], None],
    ):
        self._build, self._aclose, self._close = build, aclose, close
        self._lock = threading.Lock()
        self._shared: list[_SharedClient] = []
        self._closing: set[asyncio.Task] = set()

    @contextlib.asynccontextmanager
    async def use(self, *options) -> AsyncIterator[C]:
        """The running loop's client for these options (``build``'s arguments), built on first use."""
        loop = asyncio.get_running_loop()
        with self._lock:
            # At most one idle client per loop: one for other options is not wanted any more.
            stale = [
                shared
                for shared in self._shared
                if not shared.users
                and (shared.loop.is_closed() or (shared.loop is loop and (shared.retired or shared.options != options)))
            ]
            self._shared = [shared for shared in self._shared if shared not in stale]
            mine = next((s for s in self._shared if s.loop is loop and s.options == options and not s.retired), None)
            if mine is None:
                mine = _SharedClient(self._build(*options), loop, options)
                self._shared.append(mine)
            mine.users += 1
        for shared in stale:
            if shared.loop is loop:
                await self._client_close(shared)
            else:
                self._close(shared.client)  # its loop is closed, and its async pool with it
        try:
            yield mine.client
        finally:
            with self._lock:
                mine.users -= 1
                finished = mine.retired and not mine.users
            if finished:
                await self._client_close(mine)

    def retire(self) -> None:
        """Build new clients from now on; close each old one on its loop once no reply uses it."""
        with self._lock:
            for shared in self._shared:
                shared.retired = True
            idle = [shared for shared in self._shared if not shared.users]
            # A busy client is closed by its last reply; an idle one on a loop that is not
            # running now stays listed, for that loop's next reply or ``aclose()``.
            self._shared = [shared for shared in idle if not self._close_soon(shared)]

    async def aclose(self) -> None:
        """Close the running loop's clients: idle ones now, busy ones when their reply ends."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for shared in self._shared:
                if shared.loop is loop:
                    shared.retired = True
            idle = [shared for shared in self._shared if shared.loop is loop and not shared.users]
            self._shared = [shared for shared in self._shared if shared.loop is not loop]
            closing = [task for task in list(self._closing) if task.get_loop() is loop]
        for shared in idle:
            await self._client_close(shared)
        await asyncio.gather(*closing)

    def _close_soon(self, shared: _SharedClient) -> bool:
        """Start closing ``shared`` from any thread; False when its loop cannot run the close now."""
        if shared.loop.is_closed():
            self._close(shared.client)  # its async pool went with the loop
            return True
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if shared.loop is running:
            task = running.create_task(self._client_close(shared))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
            return True
        if shared.loop.is_running():
            asyncio.run_coroutine_threadsafe(self._client_close(shared), shared.loop)
            return True
        return False

    async def _client_close(self, shared: _SharedClient) -> None:
        await self._aclose(shared.client)
