"""Backups taken while the site runs, the newest few kept, and restoring one.

On SQLite a backup is a copy of the database file made with SQLite's online
backup API: one consistent snapshot, taken while the site goes on writing (WAL
lets writers continue). On MongoDB it is the portable export
(``catalyst.portable``), gzip-compressed. Either is a dated file under
``BACKUP_DIR``; only files named as this module names them are ever counted or
removed.
"""

import datetime
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from catalyst import portable

PREFIX = "catalyst-"
SQLITE_SUFFIX = ".sqlite3"
EXPORT_SUFFIX = ".jsonl.gz"
STAMP_FORMAT = "%Y%m%d-%H%M%S-%f"
BACKUP_NAME = re.compile(rf"^{PREFIX}\d{{8}}-\d{{6}}-\d{{6}}(?:{re.escape(SQLITE_SUFFIX)}|{re.escape(EXPORT_SUFFIX)})$")
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup could not be made or restored; nothing was changed."""


@dataclass
class BackupResult:
    path: Path
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    kind: str  # "sqlite" or "export"
    safety_copy: Path | None
    counts: dict[str, int]
    pending_migrations: int


def backups_list(directory: Path) -> list[Path]:
    """This site's backups in ``directory``, oldest first (the name carries the time)."""
    if not directory.is_dir():
        return []
    return sorted(
        (path for path in directory.iterdir() if BACKUP_NAME.match(path.name) and path.is_file()),
        key=lambda path: path.name,
    )


def backups_prune(directory: Path, *, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups (``0`` keeps all); return what went."""
    if keep <= 0:
        return []
    old = backups_list(directory)[:-keep]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def backup_create(
    *,
    directory: Path,
    keep: int,
    using: str = DEFAULT_DB_ALIAS,
    now: datetime.datetime | None = None,
) -> BackupResult:
    """Copy the site into a new dated file in ``directory``, then keep only the newest ``keep``."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (now or timezone.now()).astimezone(datetime.UTC).strftime(STAMP_FORMAT)
    connection = connections[using]
    if connection.vendor == "sqlite":
        path = directory / f"{PREFIX}{stamp}{SQLITE_SUFFIX}"
        _sqlite_copy(using, path)
    else:
        path = directory / f"{PREFIX}{stamp}{EXPORT_SUFFIX}"
        with portable.open_for_writing(path) as out:
            portable.site_export(out, using=using)
    return BackupResult(path=path, removed=backups_prune(directory, keep=keep))


def _sqlite_copy(using: str, path: Path) -> None:
    connection = connections[using]
    connection.ensure_connection()
    partial = path.with_name(path.name + ".partial")
    try:
        copy = sqlite3.connect(partial)
        try:
            # One step copies every page under one read lock: a consistent snapshot.
            connection.connection.backup(copy)
            # A backup is one self-contained file, never a file plus its WAL.
            copy.execute("PRAGMA journal_mode=DELETE")
            _check_sqlite(copy, path)
        finally:
            copy.close()
        with open(partial, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _check_sqlite(database: sqlite3.Connection, path: Path) -> None:
    (result,) = database.execute("PRAGMA quick_check").fetchone()
    if result != "ok":
        raise BackupError(f"{path.name} failed SQLite's check: {result}")
    tables = {name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"django_migrations", "users"} <= tables:
        raise BackupError(f"{path.name} is an SQLite database, but not one of this site")


def backup_kind(path: Path) -> str:
    """``sqlite`` for a copy of an SQLite database, else ``export``."""
    with open(path, "rb") as file:
        return "sqlite" if file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC else "export"


def site_has_data(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    try:
        if "users" not in connection.introspection.table_names():
            return False
        return any(portable.site_counts(using).values())
    except DatabaseError:
        return False


def backup_restore(
    path: Path,
    *,
    directory: Path,
    using: str = DEFAULT_DB_ALIAS,
) -> RestoreResult:
    """Replace the site's data with the backup at ``path``.

    The file is checked in full first, and the data it replaces is first
    saved as a backup of its own in ``directory`` (``safety_copy``), so a
    wrong choice can be undone. That copy prunes nothing: the file being
    restored may be the oldest backup.
    """
    connection = connections[using]
    kind = backup_kind(path)
    if kind == "sqlite":
        if connection.vendor != "sqlite":
            raise BackupError(
                f"{path.name} is a copy of an SQLite database; this site uses {connection.display_name}. "
                "Move data between stores with `manage.py export` and `manage.py import`."
            )
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            _check_sqlite(source, path)
            safety = _safety_copy(directory, using)
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
        counts = portable.site_counts(using)
    else:
        try:
            portable.file_check(path)
        except portable.PortableFileError as error:
            raise BackupError(f"{path.name} cannot be restored: {error}") from None
        if "users" not in connection.introspection.table_names():
            raise BackupError("The database has no tables yet: run `manage.py migrate` first.")
        safety = _safety_copy(directory, using)
        portable.site_clear(using)
        counts = portable.site_import(path, using=using).counts
    return RestoreResult(kind=kind, safety_copy=safety, counts=counts, pending_migrations=_pending_migrations(using))


def _safety_copy(directory: Path, using: str) -> Path | None:
    return backup_create(directory=directory, keep=0, using=using).path if site_has_data(using) else None


def _pending_migrations(using: str) -> int:
    executor = MigrationExecutor(connections[using])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
