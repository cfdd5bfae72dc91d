"""The performance report (deskpilot.analytics.performance): filters parsed from URL parameters,
the period and the previous one, the backlog over time, and the two sources (rollups, records)
agreeing on every figure."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from deskpilot.analytics import performance, rollups
from deskpilot.analytics.performance import Filters
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Priority
from tests.analytics.scenarios import HOUR, MON, mixed_history, two_days

pytestmark = pytest.mark.django_db


def days(first: int, last: int, **kwargs: Any) -> Filters:
    start, end = (MON + datetime.timedelta(days=first)).date(), (MON + datetime.timedelta(days=last)).date()
    return Filters(start=start, end=end, **kwargs)


def test_a_week_and_the_week_before() -> None:
    two_days()
    report = performance.performance(days(0, 6))
    assert report.previous_filters == days(-7, -1)
    assert [p.created for p in report.points] == [2, 0, 0, 0, 0, 0, 0]
    assert [p.solved for p in report.points] == [1, 1, 0, 0, 0, 0, 0]
    # Backlog at the end of each day: t2 is open Monday night.
    assert [p.backlog for p in report.points] == [1, 0, 0, 0, 0, 0, 0]
    assert report.values["created"] == 2
    assert report.values["backlog"] == 0
    assert report.previous_values["created"] == 0
    assert report.previous_values["reopen_rate"] is None  # nothing solved: no rate, not 0 %
    assert report.values["one_touch_rate"] == 100.0
    # Resolutions 5 h and 3 h: the mean is exact, the median interpolated (test_rollups).
    assert report.values["resolution_mean_calendar"] == 4 * HOUR
    assert report.values["resolution_median_calendar"] == 4 * HOUR
    figure = report.figure("created")
    assert (figure.value, figure.previous, figure.change, figure.improved) == (2, 0, 2, None)


def test_the_backlog_carries_over_from_before_the_period() -> None:
    two_days()
    report = performance.performance(days(1, 1))
    # Monday left t2 open: Tuesday starts with a backlog of one and solves it.
    assert report.previous_values["backlog"] == 1
    assert [p.backlog for p in report.points] == [0]


@pytest.mark.parametrize("name", ["team", "agent", "priority", "channel", "type"])
def test_the_rollups_and_the_records_give_the_same_report(name: str) -> None:
    mixed_history(7)
    record = performance.records(days(0, 3)).first()
    assert record is not None
    value = {
        "team": record.team_id,
        "agent": record.assignee_id,
        "priority": record.priority,
        "channel": record.channel,
        "type": record.type,
    }[name]
    by_rollups = days(0, 3, **{name: value})
    assert by_rollups.rollup_choice() is not None
    from_rollups = performance.performance(by_rollups)
    # The same filters through the records: every day's sums and histograms are equal.
    scanned = rollups.filtered_series(by_rollups.previous().start, by_rollups.end, by_rollups.record_filter())
    stored = performance.series(by_rollups, start=by_rollups.previous().start)
    assert [d.counts for d in scanned] == [d.counts for d in stored]
    assert [d.histograms for d in scanned] == [d.histograms for d in stored]
    assert from_rollups.values["created"] == sum(d.counts["created"] for d in stored[-4:])


def test_two_filters_and_a_tag_read_the_records() -> None:
    mixed_history(11)
    team = performance.records(days(0, 3)).first().team_id
    both = days(0, 3, team=team, priority=Priority.HIGH)
    assert both.rollup_choice() is None
    expected = performance.records(both).filter(created_at__date__range=(both.start, both.end)).count()
    assert performance.performance(both).values["created"] == expected
    tagged = days(0, 3, tag="billing")
    expected = performance.records(tagged).filter(created_at__date__range=(tagged.start, tagged.end)).count()
    assert expected > 0
    assert performance.performance(tagged).values["created"] == expected


def test_parse_reads_the_url_and_names_every_bad_parameter() -> None:
    today = datetime.date(2026, 3, 31)
    parsed = Filters.parse({"from": "2026-03-01", "to": "2026-03-31", "team": "4", "hours": "calendar"}, today)
    assert parsed == Filters(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31), team=4, hours="calendar")
    assert Filters.parse(parsed.to_params(), today) == parsed
    assert Filters.parse({}, today) == Filters(datetime.date(2026, 3, 2), today)
    with pytest.raises(InvalidInput) as error:
        Filters.parse({"from": "March", "team": "x", "channel": "pigeon", "hours": "some"}, today)
    assert set(error.value.errors) == {"from", "team", "channel", "hours"}
    with pytest.raises(InvalidInput) as error:
        Filters.parse({"from": "2026-03-05", "to": "2026-03-01"}, today)
    assert error.value.errors == {"from": "is after to"}
    with pytest.raises(InvalidInput) as error:
        Filters.parse({"from": "2024-01-01", "to": "2026-03-01"}, today)
    assert "to" in error.value.errors
