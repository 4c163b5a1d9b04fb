"""One all-or-nothing write helper that is correct on both stores.

SQLite gets Django's ``transaction.atomic``. On MongoDB, Django's ``atomic``
does nothing, so a replica set (Atlas, or any production deployment) gets
django-mongodb-backend's own transaction, and a standalone server, which has
no transactions, gets compensation: every row created inside the block is
deleted again when the block fails.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import post_save

_created: ContextVar[list | None] = ContextVar("catalyst_created_rows", default=None)


@contextmanager
def all_or_nothing(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block so its writes all land or none do."""
    connection = connections[using]
    if connection.vendor != "mongodb":
        with transaction.atomic(using=using):
            yield
        return
    if connection.features._supports_transactions:
        from django_mongodb_backend import transaction as mongo_transaction

        with mongo_transaction.atomic(using):
            yield
        return
    with _compensating():
        yield


@contextmanager
def _compensating() -> Iterator[None]:
    outer = _created.get()
    created: list = [] if outer is None else outer
    token = _created.set(created)
    try:
        yield
    except BaseException:
        if outer is None:
            for instance in reversed(created):
                type(instance)._base_manager.filter(pk=instance.pk).delete()
        raise
    finally:
        _created.reset(token)


def _remember_created(sender, instance, created, **kwargs) -> None:
    rows = _created.get()
    if created and rows is not None:
        rows.append(instance)


post_save.connect(_remember_created, dispatch_uid="catalyst.db.remember_created")
