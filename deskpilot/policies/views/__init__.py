"""Managers' pages for SLA policies, escalation policies and business-hours calendars: lists,
create and edit forms, delete (a confirmation page, then POST), reordering, and which calendar
applies to which team and organization. One module per page family: ``sla``, ``escalations``,
``calendars``; what they share is here.

Thin: a form shapes the request, an action in ``policies.sla_actions`` validates and writes (and
enqueues the SLA recompute), and its InvalidInput re-renders the form with 422 and the error next
to the field.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

TABS = (
    ("policies:sla_list", "SLA policies"),
    ("policies:escalation_list", "Escalation policies"),
    ("policies:calendar_list", "Business hours"),
    ("policies:assignments", "Calendar assignments"),
)


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, tab: str, status: int = 200
) -> HttpResponse:
    tabs = [{"url": reverse(name), "label": label, "current": name == tab} for name, label in TABS]
    return render(request, template, {**context, "tabs": tabs}, status=status)


def get_or_404(model: Any, pk: int, noun: str) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no {noun} {pk}")
    return found


def duration(minutes: int) -> str:
    """90 → "1 h 30 m", 2880 → "2 d"."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} m" if mins else ""]
    return " ".join(p for p in parts if p)
