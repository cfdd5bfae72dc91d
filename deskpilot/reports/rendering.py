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

from deskpilot.analytics import formatting, targets
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


@dataclass(frozen=True)
class HeadlineFigure:
    """One headline KPI as the e-mail's body shows it."""

    label: str
    value: str
    change: str


@dataclass(frozen=True)
class Rendered:
    attachments: list[Attachment]
    # The KPIs the performance page and the PDF lead with, against the previous period.
    headline: list[HeadlineFigure]


def render(target: ReportSubscription | Filters) -> list[Attachment]:
    """The PDF and the CSV of a report: of these filters, or of a subscription over the period it
    would cover if sent today (UTC)."""
    if isinstance(target, ReportSubscription):
        today = timezone.now().astimezone(datetime.UTC).date()
        return rendered(filters_for(target, *period_for(target.period, today))).attachments
    return rendered(target).attachments


def rendered(filters: Filters) -> Rendered:
    """The attachments and the headline figures of the report of ``filters``."""
    report = performance(filters)
    stem = f"performance-{filters.start.isoformat()}-to-{filters.end.isoformat()}"
    attachments = [
        Attachment(f"{stem}.pdf", _pdf(filters), "application/pdf"),
        Attachment(f"{stem}.csv", _csv(report), "text/csv"),
    ]
    headline = [
        HeadlineFigure(
            figure.kpi.label,
            formatting.kpi_value(figure.kpi, figure.value),
            formatting.kpi_change(figure.kpi, figure.value, figure.previous),
        )
        for figure in report.headline()
    ]
    return Rendered(attachments, headline)


def _pdf(filters: Filters) -> bytes:
    # Judged against the targets as they are when it is sent, as the pages show them.
    return render_pdf(filters, book=targets.load())


def _csv(report: Report) -> bytes:
    return csv_bytes(daily_table(report))
