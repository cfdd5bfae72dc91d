"""The tickets behind a figure (deskpilot.analytics.drilldown): every figure of the performance
tables that links somewhere lists exactly the tickets it counts, per day and over the period."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.datastructures import MultiValueDict

from deskpilot.accounts.models import Role
from deskpilot.analytics import drilldown, performance, performance_tables, rollups
from deskpilot.analytics.drilldown import Drill
from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.performance import Filters
from deskpilot.core.errors import InvalidInput
from tests import factories
from tests.analytics.scenarios import MON, mixed_history

pytestmark = pytest.mark.django_db

WEEK = Filters(start=MON.date(), end=(MON + datetime.timedelta(days=6)).date(), hours="calendar")


def follow(url: str) -> Drill:
    parts = urlsplit(url)
    assert parts.path == "/analytics/tickets"
    return Drill.parse(MultiValueDict({k: [v] for k, v in parse_qsl(parts.query)}))


# The count of the period's totals each measure lists (first reply and resolution list the
# tickets their times come from).
def expected(total: rollups.Day, measure: str) -> int:
    if measure == "first_reply":
        return total.timed("first_reply_time")
    if measure == "resolution":
        return total.timed("full_resolution_time")
    return total.counts[{"escalated": "escalated", "fcr": "fcr"}.get(measure, measure)]


MEASURES = ["created", "solved", "reopened", "one_touch", "fcr", "escalated", "csat_good", "csat_bad"]


@pytest.mark.parametrize(
    "filters", [WEEK, Filters(WEEK.start, WEEK.end, priority="high"), Filters(WEEK.start, WEEK.end, tag="billing")]
)
def test_each_measure_lists_what_the_period_counts(filters: Filters) -> None:
    mixed_history(3)
    report = performance.performance(filters)
    total = rollups.period_total(report.days)
    assert total.counts["created"] > 0
    for measure in [*MEASURES, "first_reply", "resolution"]:
        assert Drill(measure, filters).queryset().count() == expected(total, measure), measure
        for day in report.days:
            assert Drill(measure, filters, day.day).queryset().count() == expected(day, measure), (measure, day.day)
    for point in report.points:
        assert Drill("backlog", filters, point.day).queryset().count() == point.backlog


def test_every_counted_cell_of_the_tables_links_to_as_many_tickets() -> None:
    mixed_history(5)
    report = performance.performance(WEEK)
    tables = [
        performance_tables.daily_table(report),
        performance_tables.sla_table(report),
        *(performance_tables.breakdown_table(WEEK, by) for by in performance_tables.BREAKDOWNS),
    ]
    checked = 0
    for table in tables:
        for row in table.rows:
            for column, cell in zip(table.columns, row, strict=True):
                if cell.url and column.unit == Unit.COUNT:
                    assert follow(cell.url).queryset().count() == cell.value, (table.name, column.key)
                    checked += 1
    assert checked > 30
    # SLA per target: one instance per ticket and target here, so tickets == instances.
    assert report.sla_targets
    for target in report.sla_targets:
        assert Drill(f"sla_{target.metric}_breached", WEEK).queryset().count() == target.breached
        assert Drill(f"sla_{target.metric}_met", WEEK).queryset().count() == target.met


def test_a_breakdown_row_of_no_team_drills_into_the_tickets_without_one() -> None:
    mixed_history(5)
    table = performance_tables.breakdown_table(WEEK, "agent")
    names = [row[0].value for row in table.rows]
    assert all(name for name in names)
    drill = follow(table.rows[0][1].url or "")
    assert drill.filters.agent is not None


def test_the_quick_link_is_the_drills_own_url() -> None:
    for day in (None, WEEK.start):
        for filters in (WEEK, Filters(WEEK.start, WEEK.end, team=0, tag="a&b", hours="calendar")):
            assert drilldown.drill_url(filters, "solved", day) == Drill("solved", filters, day).url()


def test_a_page_is_two_queries_and_pages_on() -> None:
    mixed_history(5)
    drill = Drill("created", WEEK)
    with CaptureQueriesContext(connection) as queries:
        first = drilldown.page(drill, 0, size=5)
        [(r.ticket.subject, r.team, r.assignee) for r in first.rows]
    assert len(queries) == 2
    assert first.total == drill.queryset().count()
    assert first.next_offset == 5
    second = drilldown.page(drill, 5, size=5)
    assert not {r.pk for r in first.rows} & {r.pk for r in second.rows}


@pytest.mark.parametrize(
    "filters",
    [
        WEEK,
        Filters(WEEK.start, WEEK.end, priority="high"),
        Filters(WEEK.start, WEEK.end, team=performance.NONE),
        Filters(WEEK.start, WEEK.end, agent=performance.NONE),
        Filters(WEEK.start, WEEK.end, channel="email", priority="high"),
        Filters(WEEK.start, WEEK.end, tag="billing"),
    ],
)
def test_the_size_of_every_list_is_exact_per_day_and_period(filters: Filters) -> None:
    mixed_history(4)
    for measure in drilldown.MEASURES:
        for day in (None, *(WEEK.start + datetime.timedelta(days=n) for n in range(7))):
            drill = Drill(measure, filters, day)
            assert drill.size() == (drill.queryset().count(), False), (measure, day)


def test_sizes_the_rollups_hold_are_read_from_them() -> None:
    mixed_history(4)
    drill = Drill("solved", Filters(WEEK.start, WEEK.end, priority="high"))
    with CaptureQueriesContext(connection) as queries:
        drill.size()
    assert len(queries) == 1
    assert "analytics_dailyrollup" in queries[0]["sql"].lower()
    for measure in ("sla_breached", "sla_first_reply_met"):
        with CaptureQueriesContext(connection) as queries:
            Drill(measure, WEEK).size()
        assert "analytics_ticketmetrics" in queries[0]["sql"].lower(), measure


def test_a_list_the_rollups_cannot_size_is_counted_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    mixed_history(5)
    drill = Drill("created", Filters(WEEK.start, WEEK.end, hours="calendar", tag="billing"))
    count = drill.queryset().count()
    assert count > 3
    monkeypatch.setattr(drilldown, "COUNT_LIMIT", 3)
    assert drill.size() == (3, True)
    assert drilldown.page(drill).more_than_total
    monkeypatch.setattr(drilldown, "COUNT_LIMIT", count)
    assert drill.size() == (count, False)
    monkeypatch.setattr(drilldown, "COUNT_LIMIT", 3)
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    html = client.get(drill.url()).content.decode()
    assert '<span data-total>3</span><span title="Lists this long are counted up to 3" data-more>+</span>' in html
    # A single filter's list is sized by the rollups, exactly, whatever the limit.
    single = Drill("created", WEEK)
    assert single.size() == (single.queryset().count(), False)
    assert single.size()[0] > 3


def test_the_export_table_holds_the_whole_list() -> None:
    mixed_history(5)
    drill = Drill("solved", WEEK)
    table = drilldown.export_table(drill)
    assert [row[0].value for row in table.rows] == list(
        drill.queryset().order_by(*drill.definition.order).values_list("ticket_id", flat=True)
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"measure": "everything"}, "measure"),
        ({}, "measure"),
        ({"measure": "created", "day": "Monday"}, "day"),
        ({"measure": "created", "from": "2026-03-02", "to": "2026-03-03", "day": "2026-03-09"}, "day"),
        ({"measure": "created", "team": "x"}, "team"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Drill.parse(MultiValueDict({k: [v] for k, v in params.items()}))
    assert field in error.value.errors
