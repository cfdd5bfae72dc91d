"""The managers' analytics pages. "Operations, live": the figures of ``analytics.operations``,
with every count linking to the inbox list of exactly the tickets it counts.

The page polls its own partial (``operations_live``) every 30 seconds with htmx; without
JavaScript it is the same numbers and tables, current as of the page load."""

from __future__ import annotations

import zoneinfo
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from deskpilot.accounts.access import manager_required
from deskpilot.analytics import operations as ops

# The inbox queue the backlog links narrow: "All open" is exactly the unsolved tickets.
BACKLOG_QUEUE = "all-open"
REFRESH_SECONDS = 30


def inbox_url(queue: str = BACKLOG_QUEUE, **params: str | int) -> str:
    """A link to an inbox list filtered by the inbox's own URL filters (``saved_views.FILTER_KEYS``)."""
    url = reverse("tickets:inbox_view", kwargs={"view": queue})
    return f"{url}?{urlencode(params)}" if params else url


def _viewer_zone() -> zoneinfo.ZoneInfo:
    """The zone the middleware activated (the manager's own), UTC when theirs is unknown."""
    zone = timezone.get_current_timezone()
    return zone if isinstance(zone, zoneinfo.ZoneInfo) else zoneinfo.ZoneInfo("UTC")


def _context() -> dict[str, Any]:
    data = ops.operations(zone=_viewer_zone())
    backlog = data.backlog
    by_sla = inbox_url(sort="sla_next_breach_at")
    return {
        "title": "Operations, live",
        "ops": data,
        "refresh_seconds": REFRESH_SECONDS,
        "backlog_url": inbox_url(),
        "unassigned_url": inbox_url("unassigned"),
        "sla_url": by_sla,
        "by_status": [(c, inbox_url(status=str(c.key))) for c in backlog.by_status],
        "by_priority": [(c, inbox_url(priority=str(c.key))) for c in backlog.by_priority],
        "by_team": [(c, inbox_url(team=c.key if c.key is not None else "none")) for c in backlog.by_team],
        "agents": [(a, inbox_url(assignee=a.id)) for a in data.agents],
        # What the chart draws; the same figures are in the table under it.
        "chart": {
            "labels": [h.label for h in data.today.hours],
            "created": [h.created for h in data.today.hours],
            "solved": [h.solved for h in data.today.hours],
        },
    }


@require_GET
@manager_required
def operations(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/operations.html", _context())


@require_GET
@manager_required
def operations_live(request: HttpRequest) -> HttpResponse:
    """Just the figures, for the page's polling (and for anyone who wants them without the page)."""
    return render(request, "analytics/_operations_live.html", _context())
