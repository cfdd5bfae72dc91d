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


def countdown_text(seconds: int) -> str:
    """A signed duration in the two largest units: "2 h 05 m", "-15 m", "3 d 4 h"."""
    sign = "-" if seconds < 0 else ""
    left = abs(seconds)
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} m"
    if minutes:
        return f"{sign}{minutes} m"
    return f"{sign}<1 m" if left else "0 m"


@register.filter
def countdown(due: datetime.datetime | None) -> SafeString | str:
    """The calendar time left until an SLA breach (DOMAIN.md: one scale, even for business-hour
    targets), negative and marked breached once it has passed; refreshed by app.js each minute."""
    if due is None:
        return ""
    seconds = int((due - timezone.now()).total_seconds())
    state = "breached" if seconds < 0 else ("soon" if seconds < 3600 else "ok")
    label = "Breached " + countdown_text(seconds)[1:] + " ago" if seconds < 0 else countdown_text(seconds) + " left"
    return format_html(
        '<time class="countdown countdown--{}" datetime="{}" title="{}" data-countdown>{}</time>',
        state,
        due.isoformat(),
        label,
        countdown_text(seconds),
    )


@register.filter
def ago(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    return timesince(value).split(",")[0] + " ago"


@register.inclusion_tag("deskpilot/field.html")
def field(bound: BoundField, *, hint: str = "") -> dict[str, object]:
    """A form field with its label, hint and errors next to it (described-by for screen readers)."""
    return {"field": bound, "hint": hint or bound.help_text}
