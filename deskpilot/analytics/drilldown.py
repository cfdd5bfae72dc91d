"""The tickets behind a figure: every count, rate and time on the analytics pages links here,
and the list holds exactly the tickets that figure counts (the tests follow the links and compare).

A *measure* names a figure's population (``MEASURES``): the day column it counts on (creation or
latest solve, as the rollups do, analytics.rollups) and the condition on the metrics record. A
rate links to its numerator ("Reopen rate" lists the reopened solved tickets); a median or p90
lists the tickets whose times it is computed from. Lists run latest first on their day column.

SLA figures count *target instances*; their list holds the tickets with at least one instance in
that state, so a ticket that breached twice is one row (the page says so).

The list's total: where the rollups hold exactly the list's size (every measure but the SLA ones,
with the filters the rollups answer: ``Filters.rollup_choice``), it is read from them, a few
dozen rollup rows, however long the list; otherwise the database counts the list, up to
``COUNT_LIMIT`` tickets ("10,000+"), so a 90-day list never costs a count of every row of it.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import get_script_prefix, reverse

from deskpilot.analytics import rollups
from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.models import TicketMetrics
from deskpilot.analytics.performance import Filters, records
from deskpilot.analytics.tables import Column, Table
from deskpilot.core.errors import InvalidInput
from deskpilot.policies.clock import METRICS
from deskpilot.policies.models import SlaMetric

PAGE_SIZE = 50
# A list the rollups cannot size is counted up to this many tickets, then shown as "10,000+".
COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Measure:
    label: str
    # The record's day column: "created_at" or "solved_at"; None for the backlog (a moment).
    on: str | None
    condition: Q = field(default_factory=Q)
    # The list's size out of the rollups of its days added up (None: they do not hold it, as
    # for SLA figures, which count target instances, not tickets).
    rollup_size: Callable[[rollups.Day], int] | None = None

    # How the list is ordered: latest first on the day column, which the indexes (dimension,
    # day column) serve without sorting the range.
    @property
    def order(self) -> tuple[str, ...]:
        return (f"-{self.on or 'created_at'}", "-ticket_id")


def _measures() -> dict[str, Measure]:
    def counted(name: str) -> Callable[[rollups.Day], int]:
        return lambda day: day.counts[name]

    def timed(metric: str) -> Callable[[rollups.Day], int]:
        return lambda day: day.timed(metric)

    found = {
        "created": Measure("Created", "created_at", rollup_size=counted("created")),
        "solved": Measure("Solved", "solved_at", rollup_size=counted("solved")),
        "backlog": Measure("Unsolved at the end of the day", None),
        "reopened": Measure(
            "Solved and reopened at least once", "solved_at", Q(reopens__gt=0), rollup_size=counted("reopened")
        ),
        "one_touch": Measure("Solved in one touch", "solved_at", Q(one_touch=True), rollup_size=counted("one_touch")),
        "fcr": Measure(
            "Solved at first contact", "solved_at", Q(first_contact_resolution=True), rollup_size=counted("fcr")
        ),
        "escalated": Measure(
            "Escalated at least once", "created_at", Q(escalations__gt=0), rollup_size=counted("escalated")
        ),
        "sla_met": Measure("With an SLA target met", "created_at", Q(sla_met__gt=0)),
        "sla_breached": Measure("With an SLA target breached", "created_at", Q(sla_breached__gt=0)),
        "first_reply": Measure(
            "With a first reply",
            "created_at",
            Q(first_reply_time__isnull=False),
            rollup_size=timed("first_reply_time"),
        ),
        "resolution": Measure(
            "Solved, with their resolution time",
            "solved_at",
            Q(full_resolution_time__isnull=False),
            rollup_size=timed("full_resolution_time"),
        ),
        "csat_good": Measure("Rated good", "solved_at", Q(csat_good=True), rollup_size=counted("csat_good")),
        "csat_bad": Measure("Rated bad", "solved_at", Q(csat_good=False), rollup_size=counted("csat_bad")),
    }
    for metric in METRICS:
        label = SlaMetric(metric).label
        for state in ("met", "breached"):
            found[f"sla_{metric}_{state}"] = Measure(
                f"{label} target {state}", "created_at", Q(**{f"sla_outcomes__{metric}__{state}__gt": 0})
            )
    return found


MEASURES = _measures()


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Drill:
    """A figure's population: a measure, the report's filters, and one day or the whole period."""

    measure: str
    filters: Filters
    day: datetime.date | None = None

    @property
    def definition(self) -> Measure:
        return MEASURES[self.measure]

    def queryset(self) -> QuerySet[TicketMetrics]:
        measure = self.definition
        query = records(self.filters).filter(measure.condition)
        if measure.on is None:
            # The backlog at the end of the day (or of the period): created before, not solved by then.
            moment = _midnight((self.day or self.filters.end) + datetime.timedelta(days=1))
            return query.filter(Q(created_at__lt=moment) & (Q(solved_at__isnull=True) | Q(solved_at__gte=moment)))
        first, last = (self.day, self.day) if self.day else (self.filters.start, self.filters.end)
        since, until = _midnight(first), _midnight(last + datetime.timedelta(days=1))
        return query.filter(**{f"{measure.on}__gte": since, f"{measure.on}__lt": until})

    def title(self) -> str:
        when = (
            f"{self.day:%-d %b %Y}" if self.day else f"{self.filters.start:%-d %b %Y} to {self.filters.end:%-d %b %Y}"
        )
        return f"{self.definition.label} · {when}"

    def size(self) -> tuple[int, bool]:
        """How many tickets the list holds, and whether that is only a lower bound (the list is
        longer than ``COUNT_LIMIT`` and the rollups cannot size it): one query either way."""
        choice = self.filters.rollup_choice()
        measure = self.definition
        if choice is not None:
            dimension, key = choice
            if measure.on is None:
                end = (self.day or self.filters.end) + datetime.timedelta(days=1)
                return rollups.unsolved_before(end, dimension, key), False
            if measure.rollup_size is not None:
                first, last = (self.day, self.day) if self.day else (self.filters.start, self.filters.end)
                totals = rollups.totals_by_key(first, last, dimension, [key])
                return (measure.rollup_size(totals[key]) if key in totals else 0), False
        found = self.queryset().values("pk")[: COUNT_LIMIT + 1].count()
        return min(found, COUNT_LIMIT), found > COUNT_LIMIT

    def to_params(self) -> dict[str, str]:
        params = {"measure": self.measure, **self.filters.to_params()}
        if self.day is not None:
            params["day"] = self.day.isoformat()
        return params

    def url(self) -> str:
        return f"{reverse('analytics:drilldown')}?{urlencode(self.to_params())}"

    @classmethod
    def parse(cls, params: Any) -> Drill:
        """From URL parameters: ``measure``, optional ``day`` (inside the range), the filters."""
        errors: dict[str, str] = {}
        try:
            filters = Filters.parse(params)
        except InvalidInput as error:
            errors.update(error.errors)
            filters = None
        measure = (params.get("measure") or "").strip()
        if measure not in MEASURES:
            errors["measure"] = f"{measure!r} is not a figure that lists tickets" if measure else "is required"
        day = None
        raw = (params.get("day") or "").strip()
        if raw:
            try:
                day = datetime.date.fromisoformat(raw)
            except ValueError:
                errors["day"] = f"{raw!r} is not a date (YYYY-MM-DD)"
            else:
                if filters is not None and not filters.start <= day <= filters.end:
                    errors["day"] = "is outside the range from-to"
        if errors:
            raise InvalidInput(errors)
        assert filters is not None
        return cls(measure=measure, filters=filters, day=day)


@functools.lru_cache(maxsize=16)
def _base(prefix: str) -> str:
    return reverse("analytics:drilldown")


@functools.lru_cache(maxsize=256)
def _encoded(filters: Filters) -> str:
    return urlencode(filters.to_params())


def drill_url(filters: Filters, measure: str, day: datetime.date | None = None) -> str:
    """``Drill(measure, filters, day).url()``, made cheaply: a performance page holds a couple of
    thousand of these links, and reversing and encoding each one whole was half its time."""
    url = f"{_base(get_script_prefix())}?{urlencode({'measure': measure})}&{_encoded(filters)}"
    return url if day is None else f"{url}&day={day.isoformat()}"


@dataclass
class Page:
    rows: list[TicketMetrics]
    total: int
    next_offset: int | None
    # The total is a lower bound: the list holds more than COUNT_LIMIT tickets.
    more_than_total: bool = False


def page(drill: Drill, offset: int = 0, size: int = PAGE_SIZE) -> Page:
    """One page of the list (the ticket and its people joined: one query) and its size (one)."""
    rows = list(
        drill.queryset()
        .select_related("ticket", "team", "assignee")
        .order_by(*drill.definition.order)[offset : offset + size + 1]
    )
    more = len(rows) > size
    total, more_than_total = drill.size()
    return Page(
        rows=rows[:size],
        total=total,
        next_offset=offset + size if more else None,
        more_than_total=more_than_total,
    )


# A download holds at most this many tickets (the page says when a list is longer).
EXPORT_LIMIT = 50_000


def export_table(drill: Drill) -> Table:
    """The whole list (up to ``EXPORT_LIMIT`` tickets) as a table for CSV / XLSX."""
    business = drill.filters.hours == "business"
    table = Table(
        "tickets",
        drill.title(),
        [
            Column("ticket", "Ticket"),
            Column("subject", "Subject"),
            Column("status", "Status"),
            Column("priority", "Priority"),
            Column("channel", "Channel"),
            Column("team", "Team"),
            Column("assignee", "Assignee"),
            Column("created_at", "Created"),
            Column("solved_at", "Solved"),
            Column("first_reply", "First reply", Unit.SECONDS),
            Column("resolution", "Resolution", Unit.SECONDS),
            Column("sla_breached", "SLA targets breached", Unit.COUNT),
        ],
    )
    query = drill.queryset().select_related("ticket", "team", "assignee").order_by(*drill.definition.order)
    for record in query[:EXPORT_LIMIT]:
        table.add(
            record.ticket_id,
            record.ticket.subject,
            record.get_status_display(),
            record.get_priority_display(),
            record.get_channel_display(),
            record.team.name if record.team else "",
            record.assignee.name if record.assignee else "",
            record.created_at,
            record.solved_at,
            record.first_reply_time_business if business else record.first_reply_time,
            record.full_resolution_time_business if business else record.full_resolution_time,
            record.sla_breached,
        )
    return table
