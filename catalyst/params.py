"""Dates and keys read from a request's query string.

Anything malformed or out of range is the client's mistake: it raises
``BadRequest``, which Django answers with 400, never a 500 from deep inside a
query.
"""

import datetime

from django.core.exceptions import BadRequest, ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The longest ISO 8601 moment, with microseconds and an offset, is 32 characters.
MOMENT_MAX_LENGTH = 40
# The widest integer key either store holds (SQLite's signed 64 bits).
INTEGER_KEY_RANGE = range(-(2**63), 2**63)


def moment_param(value: str, *, name: str) -> datetime.datetime | None:
    """The aware moment ``value`` names; None when it is empty."""
    if not value:
        return None
    try:
        if len(value) > MOMENT_MAX_LENGTH:
            raise ValueError
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        # The stores keep UTC: a moment that has no UTC form is out of range.
        return moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        raise BadRequest(f"“{name}” must be a date and time like 2026-01-31T09:30:00Z.") from None


def key_param(model: type[Model], value: str, *, name: str):
    """``value`` as a key of ``model``; None when it is empty."""
    if not value:
        return None
    try:
        key = model._meta.pk.to_python(value)
    except (ValidationError, ValueError, TypeError):
        key = None
    if key is None or (isinstance(key, int) and key not in INTEGER_KEY_RANGE):
        raise BadRequest(f"“{name}” is not a valid id.")
    return key
