"""Template helpers used across the pages."""

from __future__ import annotations

import datetime

from django import template
from django.forms import BoundField
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def when(value: datetime.datetime | None) -> SafeString | str:
    """A timestamp in the viewer's time zone: short text, the full date and zone on hover, and
    a machine-readable datetime attribute."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    now = timezone.localtime()
    if local.date() == now.date():
        short = local.strftime("%H:%M")
    elif local.year == now.year:
        short = local.strftime("%b %-d, %H:%M")
    else:
        short = local.strftime("%b %-d %Y")
    full = local.strftime("%a %b %-d %Y, %H:%M %Z")
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), full, short)


@register.filter
def ago(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    return timesince(value).split(",")[0] + " ago"


@register.inclusion_tag("deskpilot/field.html")
def field(bound: BoundField, *, hint: str = "") -> dict[str, object]:
    """A form field with its label, hint and errors next to it (described-by for screen readers)."""
    return {"field": bound, "hint": hint or bound.help_text}
