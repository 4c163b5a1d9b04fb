"""The database queries a request makes, counted and timed in its context, for its log line and its metrics.

Connections belong to threads, and under ASGI a request's queries run in
threads other than its middleware's, so the count lives in the request's
context (which those threads inherit). SQL statements reach it through an
execute wrapper every connection gets; MongoDB commands through a PyMongo
listener, since django-mongodb-backend never calls execute wrappers.
"""

import contextlib
import contextvars
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections
from django.db.backends.signals import connection_created
from pymongo import monitoring


@dataclass
class DatabaseUse:
    """Queries counted for one request, until its response starts."""

    queries: int = 0
    seconds: float = 0.0
    open: bool = True

    def add(self, seconds: float) -> None:
        if self.open:
            self.queries += 1
            self.seconds += seconds


# The request being served in this context. Work started from a request (a
# reply's task) inherits it, which is why the use is closed once the response starts.
_database_use: contextvars.ContextVar[DatabaseUse | None] = contextvars.ContextVar("database_use", default=None)


@contextlib.contextmanager
def database_counted() -> Iterator[DatabaseUse]:
    """Count and time the database queries made in this context until the block ends.

    Inside a block already counting (a middleware within another), the count is
    the outer block's: one count per request, however many read it.
    """
    if (current := _database_use.get()) is not None and current.open:
        yield current
        return
    use = DatabaseUse()
    token = _database_use.set(use)
    try:
        yield use
    finally:
        use.open = False
        _database_use.reset(token)


def _query_timed(execute, sql, params, many, context):
    use = _database_use.get()
    if use is None:
        return execute(sql, params, many, context)
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        use.add(time.perf_counter() - started)


def _connection_created(sender, connection, **kwargs) -> None:
    # Execute wrappers live on a connection; every new one gets ours (again on a reconnect, which keeps it).
    if _query_timed not in connection.execute_wrappers:
        connection.execute_wrappers.append(_query_timed)


class _CommandTimer(monitoring.CommandListener):
    """Times MongoDB commands toward the request they were sent for.

    PyMongo reports each command in the thread that runs it, so the request
    it belongs to is the context's. A query that reads many batches counts
    once per batch (``getMore``).
    """

    def started(self, event) -> None:
        pass

    def succeeded(self, event) -> None:
        self._add(event)

    def failed(self, event) -> None:
        self._add(event)

    @staticmethod
    def _add(event) -> None:
        use = _database_use.get()
        if use is not None:
            use.add(event.duration_micros / 1_000_000)


def install(*, using_mongodb: bool) -> None:
    """Count every connection's queries: called once, from the project's app config."""
    connection_created.connect(_connection_created, dispatch_uid="catalyst.queries.connection_created")
    for existing in connections.all(initialized_only=True):
        _connection_created(None, existing)
    if using_mongodb:
        # Only clients made from now on hear it; the database connects later, on first use.
        monitoring.register(_CommandTimer())
