"""A KPI figure's target status as a small badge:
``{% load analytics_targets %}{% target_badge status %}`` (status: ``analytics.targets.TargetStatus``
or None). Pages that show badges link ``analytics/targets.css``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deskpilot.analytics.targets import TargetStatus

register = template.Library()


@register.simple_tag
def target_badge(status: TargetStatus | None) -> SafeString | str:
    """Nothing without a status; else the state in words (colour is never the only signal) with
    the target itself in the title. format_html escapes both."""
    if not status:  # None, or a variable the page does not have ("")
        return ""
    return format_html(
        '<span class="target-badge target-{}" title="{}">{}</span>',
        status.state.value,
        status.description,
        status.label,
    )
