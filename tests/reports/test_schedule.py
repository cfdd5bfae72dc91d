"""reports.schedule: due moments per frequency and zone (DST, month ends, catch-up) and the
period a delivery covers."""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest

from deskpilot.reports.schedule import (
    Schedule,
    due_on,
    latest_due,
    next_due,
    period_for,
    sends_on,
    zone,
)

PARIS = zone("Europe/Paris")
NEW_YORK = zone("America/New_York")
TOKYO = zone("Asia/Tokyo")
D = datetime.date


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


DAILY_8 = Schedule("daily", 8)


def test_daily_at_the_local_hour_in_each_zone() -> None:
    now = utc(2026, 1, 15, 12)
    assert next_due(DAILY_8, PARIS, now) == utc(2026, 1, 16, 7)  # 08:00 CET
    assert next_due(DAILY_8, NEW_YORK, now) == utc(2026, 1, 15, 13)  # 08:00 EST, later today
    assert next_due(DAILY_8, TOKYO, now) == utc(2026, 1, 15, 23)  # 08:00 JST on the 16th
    assert next_due(DAILY_8, zone("UTC"), now) == utc(2026, 1, 16, 8)


def test_next_due_is_strictly_after_now_and_latest_due_at_or_before() -> None:
    at = utc(2026, 1, 15, 7)  # 08:00 Paris exactly
    assert latest_due(DAILY_8, PARIS, at) == at
    assert next_due(DAILY_8, PARIS, at) == utc(2026, 1, 16, 7)
    assert latest_due(DAILY_8, PARIS, at - datetime.timedelta(seconds=1)) == utc(2026, 1, 14, 7)


def test_the_same_local_hour_across_the_spring_and_autumn_changes() -> None:
    # Paris: summer time from 29 Mar 2026 (UTC+2), winter time from 25 Oct 2026 (UTC+1).
    assert due_on(DAILY_8, D(2026, 3, 28), PARIS) == utc(2026, 3, 28, 7)
    assert due_on(DAILY_8, D(2026, 3, 29), PARIS) == utc(2026, 3, 29, 6)
    assert next_due(DAILY_8, PARIS, utc(2026, 3, 28, 8)) == utc(2026, 3, 29, 6)
    assert due_on(DAILY_8, D(2026, 10, 24), PARIS) == utc(2026, 10, 24, 6)
    assert due_on(DAILY_8, D(2026, 10, 25), PARIS) == utc(2026, 10, 25, 7)
    # 23 hours and 25 hours between two sends.
    assert next_due(DAILY_8, PARIS, utc(2026, 10, 24, 6)) == utc(2026, 10, 25, 7)


def test_an_hour_skipped_by_the_clocks_is_sent_just_after_the_gap() -> None:
    two = Schedule("daily", 2)
    # New York, 8 Mar 2026: 02:00 EST becomes 03:00 EDT; nothing exists between.
    moment = due_on(two, D(2026, 3, 8), NEW_YORK)
    assert moment == utc(2026, 3, 8, 7)
    assert moment.astimezone(NEW_YORK).hour == 3
    assert next_due(two, NEW_YORK, utc(2026, 3, 7, 8)) == moment


def test_an_hour_repeated_by_the_clocks_is_sent_once_at_its_first_occurrence() -> None:
    one = Schedule("daily", 1)
    # New York, 1 Nov 2026: 01:00-02:00 happens twice (EDT, then EST).
    first = due_on(one, D(2026, 11, 1), NEW_YORK)
    assert first == utc(2026, 11, 1, 5)
    # An hour later (01:00 EST, the repeat), the next one is the next day's.
    assert next_due(one, NEW_YORK, first) == utc(2026, 11, 2, 6)
    assert latest_due(one, NEW_YORK, utc(2026, 11, 1, 6, 30)) == first


def test_weekly_on_its_weekday() -> None:
    monday_9 = Schedule("weekly", 9, weekday=0)
    # Thursday 3 Dec 2026 → Monday 7 Dec.
    assert next_due(monday_9, PARIS, utc(2026, 12, 3, 12)) == utc(2026, 12, 7, 8)
    assert latest_due(monday_9, PARIS, utc(2026, 12, 3, 12)) == utc(2026, 11, 30, 8)
    sunday = Schedule("weekly", 23, weekday=6)
    # Sunday 23:00 in Tokyo is Sunday 14:00 UTC.
    assert next_due(sunday, TOKYO, utc(2026, 12, 3)) == utc(2026, 12, 6, 14)
    assert [sends_on(monday_9, D(2026, 12, d)) for d in range(7, 14)] == [True] + [False] * 6


@pytest.mark.parametrize(
    ("day_of_month", "after", "expected"),
    [
        (31, utc(2026, 4, 1), utc(2026, 4, 30, 6)),  # a 30-day month: its last day (CEST)
        (31, utc(2026, 2, 1), utc(2026, 2, 28, 7)),  # February
        (30, utc(2028, 2, 1), utc(2028, 2, 29, 7)),  # a leap February
        (31, utc(2026, 5, 1), utc(2026, 5, 31, 6)),
        (15, utc(2026, 5, 15, 7), utc(2026, 6, 15, 6)),  # the 15th has passed (08:00 CEST = 06:00)
        (1, utc(2026, 12, 3), utc(2027, 1, 1, 7)),  # over the year's end
    ],
)
def test_monthly_clamped_to_the_months_length(
    day_of_month: int, after: datetime.datetime, expected: datetime.datetime
) -> None:
    monthly = Schedule("monthly", 8, day_of_month=day_of_month)
    assert next_due(monthly, PARIS, after) == expected


def test_a_clamped_day_is_sent_once_in_the_month() -> None:
    monthly = Schedule("monthly", 8, day_of_month=31)
    april = [D(2026, 4, d) for d in range(1, 31)]
    assert [day.day for day in april if sends_on(monthly, day)] == [30]


def test_catch_up_is_the_latest_missed_moment_only() -> None:
    # Down from Monday to Thursday noon: the latest due moment is Thursday 08:00, one moment,
    # whatever was missed before.
    assert latest_due(DAILY_8, PARIS, utc(2026, 12, 3, 11)) == utc(2026, 12, 3, 7)
    monthly = Schedule("monthly", 8, day_of_month=1)
    assert latest_due(monthly, PARIS, utc(2026, 12, 3, 11)) == utc(2026, 12, 1, 7)


def test_an_unknown_zone_is_utc() -> None:
    assert zone("Mars/Olympus") == zone("UTC")
    assert zone("") == zone("UTC")


@pytest.mark.parametrize(
    ("period", "send_day", "expected"),
    [
        ("previous_day", D(2026, 3, 1), (D(2026, 2, 28), D(2026, 2, 28))),
        ("previous_7_days", D(2026, 12, 3), (D(2026, 11, 26), D(2026, 12, 2))),
        ("last_30_days", D(2026, 12, 3), (D(2026, 11, 3), D(2026, 12, 2))),
        # Thursday 3 Dec → Monday 23 Nov to Sunday 29 Nov; a Monday → the week just ended.
        ("previous_week", D(2026, 12, 3), (D(2026, 11, 23), D(2026, 11, 29))),
        ("previous_week", D(2026, 12, 7), (D(2026, 11, 30), D(2026, 12, 6))),
        ("previous_month", D(2026, 3, 1), (D(2026, 2, 1), D(2026, 2, 28))),
        ("previous_month", D(2026, 1, 31), (D(2025, 12, 1), D(2025, 12, 31))),
        ("previous_month", D(2028, 3, 15), (D(2028, 2, 1), D(2028, 2, 29))),
    ],
)
def test_the_period_covered(
    period: str, send_day: datetime.date, expected: tuple[datetime.date, datetime.date]
) -> None:
    assert period_for(period, send_day) == expected


def test_an_unknown_period_or_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        period_for("fortnight", D(2026, 1, 1))
    with pytest.raises(ValueError, match="frequency"):
        sends_on(Schedule("hourly", 1), D(2026, 1, 1))


def test_the_period_is_in_the_recipients_local_dates() -> None:
    # Due Tuesday 1 Dec 08:00 in Tokyo = Monday 30 Nov 23:00 UTC: the "previous day" is Monday
    # 30 Nov (Tokyo's yesterday), not Sunday (UTC's).
    moment = next_due(DAILY_8, TOKYO, utc(2026, 11, 30, 12))
    assert moment == utc(2026, 11, 30, 23)
    assert period_for("previous_day", moment.astimezone(TOKYO).date()) == (D(2026, 11, 30), D(2026, 11, 30))
