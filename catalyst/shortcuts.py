"""Lookups shared by every app's views and API."""

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

# What a malformed key raises: not a number on SQLite, not an ObjectId on MongoDB.
MALFORMED_KEY_ERRORS = (ValueError, TypeError, ValidationError, OverflowError)


def get_or_404(queryset: QuerySet, pk) -> Model:
    """``get_object_or_404`` that also answers 404, not 500, to a malformed id."""
    try:
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, *MALFORMED_KEY_ERRORS):
        raise Http404("No such item.") from None


async def aget_or_404(queryset: QuerySet, pk) -> Model:
    try:
        return await queryset.aget(pk=pk)
    except (queryset.model.DoesNotExist, *MALFORMED_KEY_ERRORS):
        raise Http404("No such item.") from None
