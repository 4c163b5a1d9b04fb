from django import template

register = template.Library()

LABELS = {
    "title": "title",
    "description": "description",
    "priority": "priority",
    "status": "status",
    "estimateHours": "estimate",
    "dueDate": "due date",
}


@register.simple_tag
def pending_count(changes) -> int:
    """Changes still waiting for a decision (stale ones included: they wait too)."""
    return sum(1 for change in changes if change.is_pending)


@register.filter
def field_label(name: str) -> str:
    return LABELS.get(name, name)


@register.filter
def field_value(value, name: str) -> str:
    """A proposed or former value as the user reads it."""
    if value in (None, ""):
        return "none"
    if name == "estimateHours":
        return f"{float(value):g} h"
    if name in ("priority", "status"):
        return str(value).replace("-", " ")
    return str(value)
