import datetime

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def human_duration(value: datetime.timedelta) -> str:
    """``timedelta(minutes=15)`` → "15 minutes"; whole hours read as hours."""
    minutes = max(1, round(value.total_seconds() / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
