"""What every API schema is built from: field names, text, days and moments, keys, choices, errors.

Fields are named in snake_case in Python and in camelCase on the wire
(``created_at`` is ``createdAt``); the routers serialise by those aliases.
"""

import datetime
import re
from collections.abc import Callable
from typing import Annotated, Literal

from django.db import models
from ninja import Schema
from pydantic import (
    AliasGenerator,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

# The characters Python's str.strip() removes, spelled out so that every regex
# dialect reading the schema (ECMAScript, Rust, Python) agrees on them.
_STRIPPED = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = rf"^[^\x00]*[^\x00{_STRIPPED}][^\x00]*$"

# What a broken pattern means, in words (the patterns themselves read badly).
PATTERN_PROBLEMS = {
    NO_NUL_PATTERN: "must not contain NUL characters",
    NOT_BLANK_PATTERN: "must contain more than whitespace, and no NUL characters",
}


def Text(max_length: int, *, blank: bool = True):
    """A string as the models store it: at most ``max_length`` characters, no NUL,
    and with ``blank=False`` more than whitespace."""
    pattern = NO_NUL_PATTERN if blank else NOT_BLANK_PATTERN
    return Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]


def Choice(choices: type[models.TextChoices]):
    """One of a model's choices, as the model's own enum; requests send its value as text.

    Documented inline as an ``enum`` of the values rather than as a named
    component: django-ninja names components by class name, and several
    models call their choices ``Status``.
    """
    return Annotated[choices, Strict(False), WithJsonSchema({"type": "string", "enum": choices.values})]


def _date_from_text(value: object) -> datetime.date:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return datetime.date.fromisoformat(value)
    raise ValueError("must be a date like 2030-01-31")


# A day sent as ``YYYY-MM-DD`` text, and only so (pydantic alone also reads numbers as days).
IsoDate = Annotated[datetime.date, BeforeValidator(_date_from_text)]


def MomentAs(text: Callable[[datetime.datetime], str]):
    """A moment the API writes as ``text`` writes it (ISO 8601 text)."""
    return Annotated[
        datetime.datetime,
        PlainSerializer(text, return_type=str),
        WithJsonSchema({"type": "string", "format": "date-time"}),
    ]


Moment = MomentAs(datetime.datetime.isoformat)


def _key_text(key: object) -> object:
    return key if key is None else str(key)


# A record's key as text: a number on SQLite, an ObjectId on MongoDB.
Id = Annotated[str, BeforeValidator(_key_text)]


class RecordWith:
    """A record as an answer reads it, with values the record does not hold itself.

    ``RecordWith(project, progress=progress)`` reads ``progress`` as given and
    every other attribute from ``project``.
    """

    def __init__(self, record: object, **values: object):
        self._record = record
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> object:
        return getattr(self._record, name)


class CamelSchema(Schema):
    """snake_case names in Python, camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel)


class BodyIn(CamelSchema):
    """A JSON body read as its schema states it: no text taken for a number, a flag or a date."""

    model_config = ConfigDict(strict=True)


class OutSchema(Schema):
    """An answer: read by its Python names, so that a record's own attributes fill it
    (``chat.created_at`` fills ``createdAt``), and written by the camelCase ones."""

    model_config = ConfigDict(alias_generator=AliasGenerator(serialization_alias=to_camel))


class Success(OutSchema):
    """``{"success": true, …}``."""

    success: Literal[True]


class ErrorOut(Schema):
    """Every error: ``{"success": false, "error": "…"}``."""

    success: Literal[False] = False
    error: str


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses a route can answer."""
    return dict.fromkeys(statuses, ErrorOut)
