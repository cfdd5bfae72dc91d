"""A scheduled report's files: the executive PDF and the daily figures as CSV.

The one place the report e-mails meet the renderers (``reports.executive.render_pdf`` and
``analytics.exports.csv_bytes`` of ``analytics.performance_tables.daily_table``): the job and the
pages call ``render`` and ``filters_for`` only, and the tests substitute ``_pdf`` and ``_csv``
where a renderer is not what they are about.
"""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from deskpilot.analytics.exports import csv_bytes
from deskpilot.analytics.performance import Filters, Report, performance
from deskpilot.analytics.performance_tables import daily_table
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
    # Looked up when called: the executive report is being written beside this module.
    executive: Any = importlib.import_module("deskpilot.reports.executive")
    return bytes(executive.render_pdf(filters))


def _csv(report: Report) -> bytes:
    return csv_bytes(daily_table(report))
