"""The performance report: a date range and filters in, every figure of the performance page,
the scorecards, the executive PDF and the scheduled reports out (``performance``).

Where the figures come from:

- With at most one of team, agent, channel, priority, type and organization chosen and no tag,
  the daily rollups answer (``rollups.rollup_series``): a handful of indexed queries whatever
  the range and the size of the desk.
- Any other combination (two dimensions, or a tag) reads the metrics records of the range
  (``rollups.filtered_series``): the same sums, exact, at the cost of a range scan.

The previous period is the same number of days just before; both come from one series query.
Days are UTC days (decision 0004). Values follow ``analytics.kpis``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from django.db import connection
from django.utils import timezone

from deskpilot.accounts.models import Team, User
from deskpilot.analytics import kpis, rollups
from deskpilot.analytics.models import RollupDimension, TicketMetrics
from deskpilot.analytics.rollups import Day, RecordFilter
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization
from deskpilot.policies.clock import METRICS
from deskpilot.policies.models import SlaMetric
from deskpilot.tickets.models import Channel, Priority, Tag, TicketType

DEFAULT_DAYS = 30
MAX_DAYS = 366
HOURS = ("business", "calendar")
# The filters that are dimensions of the rollups, with theirs.
_ROLLUP_DIMENSIONS = {
    "team": RollupDimension.TEAM,
    "agent": RollupDimension.AGENT,
    "channel": RollupDimension.CHANNEL,
    "priority": RollupDimension.PRIORITY,
    "type": RollupDimension.TYPE,
    "organization": RollupDimension.ORGANIZATION,
}
# The record's column behind each filter.
_COLUMNS = {
    "team": "team_id",
    "agent": "assignee_id",
    "channel": "channel",
    "priority": "priority",
    "type": "type",
    "organization": "organization_id",
}
_CHOICES = {"channel": Channel, "priority": Priority, "type": TicketType}
_IDS = {"team": Team, "agent": User, "organization": Organization}
# The id filter meaning "none": tickets without a team, unassigned, without an organization
# ("none" in URLs; the rollups' "" key).
NONE = 0
_NONE_LABELS = {"team": "No team", "agent": "Unassigned", "organization": "No organization"}


@dataclass(frozen=True)
class Filters:
    """What a report covers: UTC days ``start``..``end`` (both included), at most one value per
    dimension (ids for team, agent and organization), and which hours times are shown in."""

    start: datetime.date
    end: datetime.date
    team: int | None = None
    agent: int | None = None
    channel: str | None = None
    priority: str | None = None
    type: str | None = None
    organization: int | None = None
    tag: str | None = None
    hours: str = "business"

    DIMENSIONS = ("team", "agent", "channel", "priority", "type", "organization", "tag")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of as many days just before this one, with the same filters."""
        end = self.start - datetime.timedelta(days=1)
        return replace(self, start=end - datetime.timedelta(days=self.days - 1), end=end)

    def chosen(self) -> dict[str, Any]:
        """The dimension filters set, by name."""
        return {name: getattr(self, name) for name in self.DIMENSIONS if getattr(self, name) is not None}

    def rollup_choice(self) -> tuple[str, str] | None:
        """(dimension, key) of the rollups that answer these filters, or None when only the
        records can (two dimensions, or a tag)."""
        chosen = self.chosen()
        if "tag" in chosen or len(chosen) > 1:
            return None
        if not chosen:
            return RollupDimension.ALL, ""
        name, value = next(iter(chosen.items()))
        return _ROLLUP_DIMENSIONS[name], "" if value == NONE and name in _IDS else str(value)

    def record_filter(self) -> RecordFilter:
        """These filters as a condition on metrics records."""
        parts, params = [], []
        for name, column in _COLUMNS.items():
            value = getattr(self, name)
            if value == NONE and name in _IDS:
                parts.append(f"{column} IS NULL")
            elif value is not None:
                parts.append(f"{column} = %s")
                params.append(value)
        if self.tag is not None:
            through = connection.ops.quote_name(Tag.tickets.through._meta.db_table)
            tags = connection.ops.quote_name(Tag._meta.db_table)
            parts.append(
                f"ticket_id IN (SELECT tt.ticket_id FROM {through} tt JOIN {tags} t ON t.id = tt.tag_id "
                "WHERE t.name = %s)"
            )
            params.append(self.tag)
        return RecordFilter(" AND ".join(parts), tuple(params))

    def to_params(self) -> dict[str, str]:
        """As URL parameters (what ``parse`` reads back)."""
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name, value in self.chosen().items():
            params[name] = "none" if value == NONE and name in _IDS else str(value)
        if self.hours != "business":
            params["hours"] = self.hours
        return params

    @classmethod
    def parse(cls, params: Mapping[str, Any], today: datetime.date | None = None) -> Filters:
        """Filters from URL parameters (``from``, ``to``, the dimensions, ``hours``); the last
        ``DEFAULT_DAYS`` days up to today when no range is given. Raises InvalidInput naming
        every bad parameter."""
        today = today or timezone.now().astimezone(datetime.UTC).date()
        errors: dict[str, str] = {}

        def text(name: str) -> str | None:
            value = params.get(name)
            if isinstance(value, list):
                value = value[-1] if value else None
            value = (str(value) if value is not None else "").strip()
            return value or None

        def day(name: str) -> datetime.date | None:
            raw = text(name)
            if raw is None:
                return None
            try:
                return datetime.date.fromisoformat(raw)
            except ValueError:
                errors[name] = f"{raw!r} is not a date (YYYY-MM-DD)"
                return None

        end = day("to") or today
        start = day("from") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if "from" not in errors and "to" not in errors:
            if start > end:
                errors["from"] = "is after to"
            elif (end - start).days + 1 > MAX_DAYS:
                errors["to"] = f"makes the range longer than {MAX_DAYS} days"
        values: dict[str, Any] = {}
        for name in ("channel", "priority", "type"):
            raw = text(name)
            if raw is not None:
                if raw not in _CHOICES[name].values:
                    errors[name] = f"{raw!r} is not one of: {', '.join(_CHOICES[name].values)}"
                values[name] = raw
        for name in ("team", "agent", "organization"):
            raw = text(name)
            if raw is not None:
                if raw == "none":
                    values[name] = NONE
                elif not raw.isdigit() or int(raw) == NONE:
                    errors[name] = f"{raw!r} is not an id (or none)"
                else:
                    values[name] = int(raw)
        tag = text("tag")
        if tag is not None:
            values["tag"] = tag
        hours = text("hours") or "business"
        if hours not in HOURS:
            errors["hours"] = f"{hours!r} is not one of: {', '.join(HOURS)}"
        if errors:
            raise InvalidInput(errors)
        return cls(start=start, end=end, hours=hours, **values)

    def names(self) -> dict[str, str]:
        """Each chosen filter's value as people read it (team, agent and organization names;
        an id that no longer exists reads "unknown")."""
        found: dict[str, str] = {}
        for name, value in self.chosen().items():
            if name in _IDS and value == NONE:
                found[name] = _NONE_LABELS[name]
            elif name in _IDS:
                item = _IDS[name]._default_manager.filter(pk=value).first()
                found[name] = str(getattr(item, "name", "") or item) if item is not None else f"unknown ({value})"
            elif name in _CHOICES:
                found[name] = str(_CHOICES[name](value).label)
            else:
                found[name] = str(value)
        return found

    def describe(self) -> str:
        """One line for titles and e-mails: "1 Sep 2026 to 30 Sep 2026 · Team: Billing · ..."."""
        parts = [f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"]
        parts += [f"{name.capitalize()}: {label}" for name, label in self.names().items()]
        parts.append(f"{self.hours} hours")
        return " · ".join(parts)


def series(filters: Filters, start: datetime.date | None = None) -> list[Day]:
    """The days of ``filters`` (from ``start`` instead of its own start when given)."""
    first = start or filters.start
    choice = filters.rollup_choice()
    if choice is None:
        return rollups.filtered_series(first, filters.end, filters.record_filter())
    dimension, key = choice
    return rollups.rollup_series(first, filters.end, dimension, None if dimension == RollupDimension.ALL else [key])


def unsolved_before(filters: Filters, day: datetime.date) -> int:
    choice = filters.rollup_choice()
    if choice is None:
        return rollups.filtered_unsolved_before(day, filters.record_filter())
    dimension, key = choice
    return rollups.unsolved_before(day, dimension, None if dimension == RollupDimension.ALL else key)


@dataclass
class Point:
    """One day of the report's charts."""

    day: datetime.date
    created: int
    solved: int
    backlog: int
    first_reply_median: float | None
    first_reply_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    sla_achievement: float | None
    reopen_rate: float | None
    one_touch_rate: float | None
    escalation_rate: float | None
    csat: float | None


@dataclass
class KpiFigure:
    kpi: kpis.Kpi
    value: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return kpis.change(self.value, self.previous)

    @property
    def improved(self) -> bool | None:
        return kpis.is_better(self.kpi, self.value, self.previous)


@dataclass
class SlaTargetFigure:
    metric: str
    label: str
    met: int
    breached: int
    rate: float | None
    previous_rate: float | None


@dataclass
class Report:
    filters: Filters
    previous_filters: Filters
    days: list[Day]
    previous_days: list[Day]
    points: list[Point]
    # Every KPI of the catalogue, this period and the previous one.
    values: dict[str, float | None]
    previous_values: dict[str, float | None]
    sla_targets: list[SlaTargetFigure] = field(default_factory=list)

    def figure(self, key: str) -> KpiFigure:
        return KpiFigure(kpis.KPIS[key], self.values.get(key), self.previous_values.get(key))

    def headline(self) -> list[KpiFigure]:
        """The KPIs the page and the PDF lead with, times in the report's hours."""
        hours = self.filters.hours
        keys = [
            "created",
            "solved",
            "backlog",
            kpis.time_kpi("first_reply", "median", hours),
            kpis.time_kpi("first_reply", "p90", hours),
            kpis.time_kpi("resolution", "median", hours),
            kpis.time_kpi("resolution", "p90", hours),
            "sla_achievement",
            "reopen_rate",
            "one_touch_rate",
            "escalation_rate",
            "csat",
        ]
        return [self.figure(key) for key in keys]


def _point(day: Day, backlog: int, hours: str) -> Point:
    suffix = "_business" if hours == "business" else ""
    frt = day.median_and_p90(f"first_reply_time{suffix}")
    res = day.median_and_p90(f"full_resolution_time{suffix}")
    found = kpis.values(day, backlog)
    return Point(
        day=day.day,
        created=day.counts["created"],
        solved=day.counts["solved"],
        backlog=backlog,
        first_reply_median=frt[0],
        first_reply_p90=frt[1],
        resolution_median=res[0],
        resolution_p90=res[1],
        sla_achievement=found["sla_achievement"],
        reopen_rate=found["reopen_rate"],
        one_touch_rate=found["one_touch_rate"],
        escalation_rate=found["escalation_rate"],
        csat=found["csat"],
    )


def performance(filters: Filters) -> Report:
    """Every figure of the period and the previous one: one series query over both periods and
    one backlog aggregate (rollups), or their two record scans."""
    previous = filters.previous()
    both = series(filters, start=previous.start)
    opening = unsolved_before(filters, previous.start)
    backlogs = []
    running = opening
    for day in both:
        running += day.counts["created"] - day.counts["solved"]
        backlogs.append(running)
    split = previous.days
    previous_days, days = both[:split], both[split:]
    total, previous_total = rollups.period_total(days), rollups.period_total(previous_days)
    report = Report(
        filters=filters,
        previous_filters=previous,
        days=days,
        previous_days=previous_days,
        points=[_point(day, backlog, filters.hours) for day, backlog in zip(days, backlogs[split:], strict=True)],
        values=kpis.values(total, backlogs[-1]),
        previous_values=kpis.values(previous_total, backlogs[split - 1] if split else opening),
    )
    # Targets the period or the previous one decided (a policy without a target never shows).
    for metric in METRICS:
        met, breached = total.counts[f"sla_{metric}_met"], total.counts[f"sla_{metric}_breached"]
        previous_rate = kpis.sla_rate(previous_total.counts, metric)
        if met + breached or previous_rate is not None:
            rate = kpis.sla_rate(total.counts, metric)
            label = str(SlaMetric(metric).label)
            report.sla_targets.append(SlaTargetFigure(metric, label, met, breached, rate, previous_rate))
    return report


def filter_fields() -> list[str]:
    """The parameter names ``Filters.parse`` reads."""
    return ["from", "to", *(f.name for f in fields(Filters) if f.name not in ("start", "end"))]


def records(filters: Filters) -> Any:
    """The metrics records these filters cover (dimensions only; the date condition depends on
    the measure, ``analytics.drilldown``)."""
    query = TicketMetrics.objects.all()
    for name, column in _COLUMNS.items():
        value = getattr(filters, name)
        if value == NONE and name in _IDS:
            query = query.filter(**{f"{column}__isnull": True})
        elif value is not None:
            query = query.filter(**{column: value})
    if filters.tag is not None:
        query = query.filter(ticket__tags__name=filters.tag)
    return query
