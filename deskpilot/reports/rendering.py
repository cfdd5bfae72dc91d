"""A scheduled report's files: the executive PDF and the daily figures as CSV.

The one place the report e-mails meet the renderers (``reports.executive.render_pdf`` and
``analytics.exports.csv_bytes`` of ``analytics.performance_tables.daily_table``): the job and the
pages call ``render`` and ``filters_for`` only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from deskpilot.analytics import targets
from deskpilot.analytics.exports import csv_bytes
from deskpilot.analytics.performance import Filters, Report, performance
from deskpilot.analytics.performance_tables import daily_table
from deskpilot.reports.executive import render_pdf
from deskpilot.reports.models import ReportSubscription
from deskpilot.reports.schedule import period_for


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def filters_for(subscription: ReportSubscription, start: datetime.date, end: datetime.date) -> Filters:
    """The subscription's filters over ``start``..``end``. Raises InvalidInput when the stored
    filters no longer parse (they were checked when saved)."""
    params: dict[str, Any] = {name: value for name, value in (subscription.filters or {}).items() if value}
    params.update({"from": start.isoformat(), "to": end.isoformat()})
    return Filters.parse(params)


def render(target: ReportSubscription | Filters) -> list[Attachment]:
    """The PDF and the CSV of a report: of these filters, or of a subscription over the period it
    would cover if sent today (UTC)."""
    if isinstance(target, ReportSubscription):
        today = timezone.now().astimezone(datetime.UTC).date()
        filters = filters_for(target, *period_for(target.period, today))
    else:
        filters = target
    stem = f"performance-{filters.start.isoformat()}-to-{filters.end.isoformat()}"
    return [
        Attachment(f"{stem}.pdf", _pdf(filters), "application/pdf"),
        Attachment(f"{stem}.csv", _csv(performance(filters)), "text/csv"),
    ]


def _pdf(filters: Filters) -> bytes:
    # Judged against the targets as they are when it is sent, as the pages show them.
    return render_pdf(filters, book=targets.load())


def _csv(report: Report) -> bytes:
    return csv_bytes(daily_table(report))
