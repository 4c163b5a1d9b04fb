"""The whole site as portable JSON Lines: written on one store, read on either.

A file is one JSON object per line, in this order::

    {"format": "project-catalyst", "version": 1, "collections": [...], "excluded": [...]}
    {"collection": "users", "document": {"_id": "1", "password": "argon2$…", "email": …}}
    …users, then apitokens, projects, tasks, chathistories…
    {"end": {"users": 3, "apitokens": 1, "projects": 2, "tasks": 5, "chathistories": 9}}

A document uses the stores' own field names (the prototype's ``userId``,
``createdAt``, …). Values are JSON strings, numbers, booleans and null; times
are UTC with milliseconds (``2025-01-31T09:30:00.250Z``), the precision
MongoDB and the prototype keep; dates are ``YYYY-MM-DD``; decimals are
strings. Passwords and API tokens appear only as the hashes the site stores.

Keys are written as the source store holds them: an SQLite key as its number,
a MongoDB ObjectId as its 24 hex digits. Importing keeps a key whenever the
target store can hold it: a number becomes, on MongoDB, the ObjectId with that
value (``1`` → ``000000000000000000000001``), and such an ObjectId is written
back as its number, so SQLite → MongoDB → SQLite gives back identical files.
Any other key (an ObjectId the SQLite store cannot hold, or every key when
adding to a site that is not empty) gets a fresh one, and links follow.

Export and import stream: memory grows with the number of users and projects
(their keys are remembered to check and remap links), never with tasks or
chats.
"""

import contextlib
import datetime
import functools
import gzip
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

from bson import ObjectId
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, models

FORMAT_NAME = "project-catalyst"
FORMAT_VERSION = 1
EXCLUDED = [
    "sessions",
    "log-in failures and lock-outs",
    "admin log",
    "groups and per-user permissions",
]
# (app label, model name) in the order a file lists them: parents before children.
MODELS = [
    ("accounts", "User"),
    ("accounts", "ApiToken"),
    ("projects", "Project"),
    ("projects", "Task"),
    ("chat", "ChatHistory"),
]
CHUNK_SIZE = 2000
# An SQLite key is a signed 64-bit integer; an ObjectId is 96 bits.
LARGEST_NUMBER_KEY = 2**63 - 1


class PortableFileError(Exception):
    """The file is not a complete export this version can read."""


class ImportRefused(Exception):
    """The site cannot take this file as it is."""


class SiteNotEmpty(ImportRefused):
    """The target site already holds data."""

    def __init__(self, counts: dict[str, int]):
        self.counts = counts
        held = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        super().__init__(f"The database is not empty ({held}).")


@dataclass(frozen=True, eq=False)
class Collection:
    """One model as a file lists it: its documents' fields, by column name."""

    name: str
    model: type[models.Model]
    fields: tuple[models.Field, ...]

    @functools.cached_property
    def by_column(self) -> dict[str, models.Field]:
        return {f.column: f for f in self.fields}


@functools.cache
def collections() -> tuple[Collection, ...]:
    result = []
    for app_label, model_name in MODELS:
        model = apps.get_model(app_label, model_name)
        fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
        result.append(Collection(name=model._meta.db_table, model=model, fields=fields))
    return tuple(result)


def _target(link: models.Field) -> str:
    return link.related_model._meta.db_table


def header() -> dict:
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "collections": [c.name for c in collections()],
        "excluded": EXCLUDED,
    }


# Keys


def key_text(value: Any) -> str:
    """How a file writes a store's key: a number as digits, an ObjectId as hex unless it holds a number."""
    if isinstance(value, int):
        return str(value)
    number = int(str(value), 16)
    return str(number) if number <= LARGEST_NUMBER_KEY else str(value)


def _is_object_id_text(text: str) -> bool:
    return len(text) == 24 and all(c in "0123456789abcdef" for c in text)


def _is_number_text(text: str) -> bool:
    return 0 < len(text) <= 19 and text.isascii() and text.isdigit() and int(text) <= LARGEST_NUMBER_KEY


def key_for_store(text: str, vendor: str) -> Any:
    """The key ``text`` keeps on a store of ``vendor``, or ``None`` when that store cannot hold it."""
    if vendor == "mongodb":
        return ObjectId(f"{int(text):024x}") if _is_number_text(text) else ObjectId(text)
    return int(text) if _is_number_text(text) else None


# Values


def _time_text(moment: datetime.datetime) -> str:
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _encode(model_field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if model_field.is_relation:
        return key_text(value)
    if isinstance(model_field, models.DateTimeField):
        return _time_text(value)
    if isinstance(model_field, models.DateField):
        return value.isoformat()
    if isinstance(model_field, models.DecimalField):
        return str(Decimal(value).quantize(Decimal(1).scaleb(-model_field.decimal_places)))
    return value


def _decode(model_field: models.Field, raw: Any) -> Any:
    """The Python value of a field's JSON value; ``ValueError`` says what is wrong."""
    if raw is None:
        if not model_field.null:
            raise ValueError("may not be null")
        return None
    if isinstance(model_field, models.DateTimeField):
        moment = datetime.datetime.fromisoformat(_string(raw))
        if moment.tzinfo is None:
            raise ValueError("needs a time zone")
        return moment.astimezone(datetime.UTC)
    if isinstance(model_field, models.DateField):
        return datetime.date.fromisoformat(_string(raw))
    if isinstance(model_field, models.DecimalField):
        try:
            return Decimal(_string(raw))
        except InvalidOperation:
            raise ValueError("is not a decimal number") from None
    if isinstance(model_field, models.BooleanField):
        if not isinstance(raw, bool):
            raise ValueError("is not true or false")
        return raw
    if isinstance(model_field, models.IntegerField):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("is not a whole number")
        return raw
    return _string(raw)


def _string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("is not a string")
    return raw


# Files


@contextlib.contextmanager
def open_for_writing(path: Path) -> Iterator[TextIO]:
    """A text stream that becomes ``path`` only when the block succeeds (gzip for ``.gz``).

    The data goes to ``<path>.partial`` first, so a failure never leaves a
    half-written file under the real name. Gzip output carries no name or
    time, so the same data always gives the same bytes.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as raw:
        zipped = (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            if path.suffix == ".gz"
            else None
        )
        text = io.TextIOWrapper(raw if zipped is None else zipped, encoding="utf-8", newline="\n")
        try:
            yield text
            text.flush()
            # Detached, so closing the gzip layer leaves ``raw`` open for the fsync.
            text.detach()
            if zipped is not None:
                zipped.close()
            raw.flush()
            os.fsync(raw.fileno())
        except BaseException:
            with contextlib.suppress(ValueError):  # already detached
                text.detach()
            raw.close()
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, path)


def open_for_reading(path: Path) -> TextIO:
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")  # the caller closes it


def _write(out: TextIO, line: dict) -> None:
    out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


# Export


@dataclass
class ExportReport:
    counts: dict[str, int] = field(default_factory=dict)
    # Records left out because their user or project was created after that collection was written.
    skipped: dict[str, int] = field(default_factory=dict)


def site_export(
    out: TextIO,
    *,
    using: str = DEFAULT_DB_ALIAS,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> ExportReport:
    """Write the whole site to ``out`` as portable JSON Lines.

    Safe while the site runs: records are read in key order, a page at a
    time, and a record whose user or project was not written (it came after
    that collection was read) is left out, so every link in the file leads
    to a record in it.
    """
    report = ExportReport()
    linked_to = {_target(f) for c in collections() for f in c.fields if f.is_relation}
    written: dict[str, set] = {}
    _write(out, header())
    for collection in collections():
        attnames = [f.attname for f in collection.fields]
        links = [(i, _target(f)) for i, f in enumerate(collection.fields) if f.is_relation]
        remember = collection.name in linked_to
        keys: set = set()
        count = skipped = 0
        for row in _rows_in_key_order(collection.model, attnames, using=using, chunk_size=chunk_size):
            pk, values = row[0], row[1:]
            if any(values[i] is not None and values[i] not in written[target] for i, target in links):
                skipped += 1
                continue
            document = {"_id": key_text(pk)}
            for model_field, value in zip(collection.fields, values, strict=True):
                document[model_field.column] = _encode(model_field, value)
            _write(out, {"collection": collection.name, "document": document})
            if remember:
                keys.add(pk)
            count += 1
            if progress and count % 100_000 == 0:
                progress(collection.name, count)
        written[collection.name] = keys
        report.counts[collection.name] = count
        if skipped:
            report.skipped[collection.name] = skipped
    _write(out, {"end": report.counts})
    return report


def _rows_in_key_order(model, attnames: list[str], *, using: str, chunk_size: int) -> Iterator[tuple]:
    # Pages by key rather than one long cursor: each read is short, so a busy
    # SQLite site can keep checkpointing its WAL and a MongoDB cursor never idles out.
    queryset = model._base_manager.using(using).order_by("pk")
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page.values_list("pk", *attnames)[:chunk_size])
        connections[using].queries_log.clear()
        yield from rows
        if len(rows) < chunk_size:
            return
        last = rows[-1][0]


# Reading a file


@dataclass
class _Record:
    collection: Collection
    key: str
    values: dict[str, Any]  # attname → value, links excluded
    links: dict[models.Field, str | None]  # link field → the linked record's key in the file


@dataclass
class FileSummary:
    """What a full read of a file found; the import trusts nothing else."""

    counts: dict[str, int]
    emails: set[str]
    largest_number_key: dict[str, int]


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with open_for_reading(path) as lines:
        try:
            for number, line in enumerate(lines, start=1):
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise PortableFileError(f"line {number}: not JSON ({error.msg})") from None
        except (EOFError, OSError, UnicodeDecodeError) as error:
            raise PortableFileError(f"the file cannot be read to its end ({error})") from None


def _read(path: Path) -> Iterator[tuple[int, Any]]:
    """Each line after the header, checked against the header; the trailer last."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        raise PortableFileError("the file is empty")
    _, head = first
    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        raise PortableFileError(f"line 1: not a {FORMAT_NAME} export (no format header)")
    version = head.get("version")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise PortableFileError(f"format version {version} is newer than this site reads ({FORMAT_VERSION})")
        raise PortableFileError(f"line 1: unsupported format version {version!r}")
    yield from lines


def _parse_record(number: int, line: Any, by_name: dict[str, Collection]) -> _Record:
    if not isinstance(line, dict) or set(line) != {"collection", "document"}:
        raise PortableFileError(f"line {number}: expected {{'collection', 'document'}}")
    collection = by_name.get(line["collection"])
    if collection is None:
        raise PortableFileError(f"line {number}: unknown collection {line['collection']!r}")
    document = line["document"]
    if not isinstance(document, dict):
        raise PortableFileError(f"line {number}: the document is not an object")
    key = document.get("_id")
    if not isinstance(key, str) or not (_is_number_text(key) or _is_object_id_text(key)):
        raise PortableFileError(f"line {number}: _id {key!r} is neither a number nor an ObjectId")
    by_column = collection.by_column
    unknown = set(document) - set(by_column) - {"_id"}
    if unknown:
        raise PortableFileError(f"line {number}: unknown {collection.name} fields {sorted(unknown)}")
    values: dict[str, Any] = {}
    links: dict[models.Field, str | None] = {}
    for column, model_field in by_column.items():
        if column not in document:
            continue  # an older writer left it out: the model's default applies
        raw = document[column]
        if model_field.is_relation:
            if raw is None and model_field.null:
                links[model_field] = None
            elif isinstance(raw, str):
                links[model_field] = raw
            else:
                raise PortableFileError(f"line {number}: {column} {raw!r} is not a key")
            continue
        try:
            values[model_field.attname] = _decode(model_field, raw)
        except ValueError as error:
            raise PortableFileError(f"line {number}: {collection.name} {column} {raw!r} {error}") from None
    return _Record(collection=collection, key=key, values=values, links=links)


def file_check(path: Path) -> FileSummary:
    """Read the whole file and check it, before anything is written.

    Checks the header, every record's fields, that every link leads to a
    record earlier in the file, that e-mail addresses are unique, and that
    the file ends with its trailer and its counts.
    """
    order = collections()
    by_name = {c.name: c for c in order}
    position = {c.name: i for i, c in enumerate(order)}
    counts = dict.fromkeys(by_name, 0)
    largest = dict.fromkeys(by_name, 0)
    seen: dict[str, set[str]] = {"users": set(), "projects": set()}
    emails: set[str] = set()
    current = 0
    trailer = None
    for number, line in _read(path):
        if trailer is not None:
            raise PortableFileError(f"line {number}: data after the end line")
        if isinstance(line, dict) and set(line) == {"end"}:
            trailer = line["end"]
            continue
        record = _parse_record(number, line, by_name)
        name = record.collection.name
        if position[name] < current:
            raise PortableFileError(f"line {number}: {name} after {order[current].name}")
        current = position[name]
        for link, linked in record.links.items():
            if linked is not None and linked not in seen[_target(link)]:
                raise PortableFileError(f"line {number}: {name} links to {_target(link)} {linked}, not in the file")
        if name in seen:
            if record.key in seen[name]:
                raise PortableFileError(f"line {number}: {name} {record.key} appears twice")
            seen[name].add(record.key)
        if name == "users":
            email = record.values.get("email", "").lower()
            if email in emails:
                raise PortableFileError(f"line {number}: a second user with e-mail {email}")
            emails.add(email)
        if _is_number_text(record.key):
            largest[name] = max(largest[name], int(record.key))
        counts[name] += 1
    if trailer is None:
        raise PortableFileError("the file has no end line: it is incomplete (cut short while it was written?)")
    if trailer != counts:
        raise PortableFileError(f"the end line counts {trailer}, but the file holds {counts}")
    return FileSummary(counts=counts, emails=emails, largest_number_key=largest)


# Import


def site_counts(using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    return {c.name: c.model._base_manager.using(using).count() for c in collections()}


def site_clear(using: str = DEFAULT_DB_ALIAS) -> None:
    """Delete every record a file holds, children first, so no cascade loads them into memory."""
    for collection in reversed(collections()):
        collection.model._base_manager.using(using).all().delete()


@dataclass
class ImportReport:
    counts: dict[str, int]
    kept_keys: bool


def site_import(
    path: Path,
    *,
    using: str = DEFAULT_DB_ALIAS,
    force: bool = False,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Load an export into the site: an empty one, or with ``force`` one that already holds data.

    The file is read and checked in full first (``file_check``); nothing is
    written when it fails. Then records are written in batches, not in one
    transaction: a MongoDB transaction is bounded in time and size and a
    million chats do not fit. If the store fails part-way, the site holds
    part of the file; ``manage.py restore`` empties the site and loads it
    again.
    """
    summary = file_check(path)
    if "users" not in connections[using].introspection.table_names():
        raise ImportRefused("The database has no tables yet: run `manage.py migrate` first")
    existing = site_counts(using)
    not_empty = any(existing.values())
    if not_empty and not force:
        raise SiteNotEmpty(existing)
    if not_empty:
        _refuse_taken_emails(summary.emails, using=using)
    loader = _Loader(using=using, keep_keys=not not_empty, summary=summary, chunk_size=chunk_size, progress=progress)
    by_name = {c.name: c for c in collections()}
    with _timestamps_as_given():
        for number, line in _read(path):
            if isinstance(line, dict) and set(line) == {"end"}:
                break
            loader.add(_parse_record(number, line, by_name))
        loader.flush()
    return ImportReport(counts=loader.counts, kept_keys=loader.keep_keys)


def _refuse_taken_emails(emails: set[str], *, using: str) -> None:
    from accounts.models import User

    listed = sorted(emails)
    taken: list[str] = []
    for start in range(0, len(listed), 500):
        batch = listed[start : start + 500]
        taken += User._base_manager.using(using).filter(email__in=batch).values_list("email", flat=True)
    if taken:
        shown = ", ".join(sorted(taken)[:10]) + (" …" if len(taken) > 10 else "")
        raise ImportRefused(f"{len(taken)} users in the file have e-mail addresses the site already has: {shown}")


@contextlib.contextmanager
def _timestamps_as_given() -> Iterator[None]:
    """Let ``auto_now`` fields keep the file's times while importing.

    ``bulk_create`` runs each field's ``pre_save``, which stamps ``auto_now``
    fields with the current time; an import must keep ``updatedAt`` as it was.
    """
    stamped = [f for c in collections() for f in c.model._meta.concrete_fields if getattr(f, "auto_now", False)]
    for model_field in stamped:
        model_field.auto_now = False
    try:
        yield
    finally:
        for model_field in stamped:
            model_field.auto_now = True


class _Loader:
    """Writes records in batches and remembers where each user and project went."""

    def __init__(
        self,
        *,
        using: str,
        keep_keys: bool,
        summary: FileSummary,
        chunk_size: int,
        progress: Callable[[str, int], None] | None,
    ):
        self.using = using
        self.vendor = connections[using].vendor
        self.keep_keys = keep_keys
        self.chunk_size = chunk_size
        self.progress = progress
        # Fresh integer keys start above every number key in the file, so none collides.
        self.next_number = {name: largest + 1 for name, largest in summary.largest_number_key.items()}
        self.placed: dict[str, dict[str, Any]] = {"users": {}, "projects": {}}
        self.counts = {c.name: 0 for c in collections()}
        self.batch: list[tuple[str, models.Model]] = []
        self.batch_collection: Collection | None = None

    def add(self, record: _Record) -> None:
        if self.batch_collection is not record.collection or len(self.batch) >= self.chunk_size:
            self.flush()
            self.batch_collection = record.collection
        values = dict(record.values)
        for link, linked in record.links.items():
            values[link.attname] = None if linked is None else self.placed[_target(link)][linked]
        instance = record.collection.model(**values)
        instance.pk = self._key(record)
        self.batch.append((record.key, instance))

    def _key(self, record: _Record) -> Any:
        if not self.keep_keys:
            return None
        kept = key_for_store(record.key, self.vendor)
        if kept is not None:
            return kept
        if self.vendor == "mongodb":
            return ObjectId()
        fresh = self.next_number[record.collection.name]
        self.next_number[record.collection.name] = fresh + 1
        return fresh

    def flush(self) -> None:
        collection = self.batch_collection
        if collection is None or not self.batch:
            return
        instances = [instance for _, instance in self.batch]
        collection.model._base_manager.using(self.using).bulk_create(instances)
        if collection.name in self.placed:
            placed = self.placed[collection.name]
            for key, instance in self.batch:
                placed[key] = instance.pk
        # With DEBUG on, Django keeps every statement's text: a batch's is megabytes.
        connections[self.using].queries_log.clear()
        before = self.counts[collection.name]
        self.counts[collection.name] = before + len(instances)
        if self.progress and before // 100_000 != self.counts[collection.name] // 100_000:
            self.progress(collection.name, self.counts[collection.name])
        self.batch = []
