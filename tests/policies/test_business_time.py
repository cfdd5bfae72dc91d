"""Business time against a brute-force oracle that steps second by second through the wall clock."""

from __future__ import annotations

import time as stopwatch
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.policies.business_time import (
    Interval,
    Schedule,
    add_business_seconds,
    business_seconds,
    find_overlap,
    is_open,
    next_open,
)

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def _transitions(zone: str) -> list[int]:
    """UTC offset changes 2024-2026, found hour by hour and refined to the second (independently of
    the code under test)."""
    tz = ZoneInfo(zone)
    start = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    found = []
    previous = datetime.fromtimestamp(start, tz).utcoffset()
    for u in range(start, start + 3 * 366 * 86400, 3600):
        offset = datetime.fromtimestamp(u, tz).utcoffset()
        if offset != previous:
            v = u - 3600
            while datetime.fromtimestamp(v, tz).utcoffset() == previous:
                v += 1
            found.append(v)
            previous = offset
    return found


TRANSITIONS = {zone: _transitions(zone) for zone in ZONES}


def oracle_open(schedule: Schedule, u: int) -> bool:
    local = datetime.fromtimestamp(u, ZoneInfo(schedule.time_zone))
    if local.date() in schedule.holidays:
        return False
    second = local.hour * 3600 + local.minute * 60 + local.second
    for interval in schedule.intervals:
        start = interval.start.hour * 3600 + interval.start.minute * 60 + interval.start.second
        end = interval.end.hour * 3600 + interval.end.minute * 60 + interval.end.second
        if end <= start:  # past midnight (00:00-00:00: the whole day)
            if local.weekday() == interval.weekday and second >= start:
                return True
            if local.weekday() == (interval.weekday + 1) % 7 and second < end:
                return True
        elif local.weekday() == interval.weekday and start <= second < end:
            return True
    return False


def oracle_seconds(schedule: Schedule, a: int, b: int) -> int:
    return sum(1 for u in range(a, b) if oracle_open(schedule, u))


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, int, int]:
    """A schedule, a start instant (often within hours of a DST change) and a span of up to 3 hours."""
    zone = draw(st.sampled_from(ZONES))
    near_a_change = draw(st.booleans())
    if TRANSITIONS[zone] and near_a_change:
        a = draw(st.sampled_from(TRANSITIONS[zone])) + draw(st.integers(-5 * 3600, 2 * 3600))
    else:
        a = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp()) + draw(st.integers(0, 2 * 365 * 86400))
    # (Hypothesis favours small integers: a second range makes long spans common, not rare.)
    b = a + draw(st.one_of(st.integers(0, 600), st.integers(3600, 3 * 3600)))
    tz = ZoneInfo(zone)
    local_dates = [(datetime.fromtimestamp(a, tz) + timedelta(days=d)).date() for d in (-1, 0, 1)]
    # Boundaries cluster around the early-morning hours where DST changes happen.
    times = st.one_of(
        st.builds(time, st.integers(0, 4), st.sampled_from([0, 15, 30, 45]), st.sampled_from([0, 0, 1, 59])),
        st.builds(time, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59)),
    )
    intervals = []
    for _ in range(draw(st.integers(1, 4))):
        weekday = draw(st.sampled_from([d.weekday() for d in local_dates] + list(range(7))))
        start, end = draw(times), draw(times)
        if start == end and start != time(0):
            continue
        intervals.append(Interval(weekday, start, end))
    holidays = draw(st.frozensets(st.sampled_from(local_dates), max_size=2))
    return Schedule(zone, tuple(intervals), holidays), a, b


def spread(top: int) -> st.SearchStrategy[int]:
    """0 to ``top`` with large values as likely as small ones."""
    return st.one_of(st.integers(0, 600), st.integers(600, top))


def at(u: int, zone: str = "UTC") -> datetime:
    return datetime.fromtimestamp(u, ZoneInfo(zone))


@settings(max_examples=200, deadline=None)
@given(cases())
def test_business_seconds_matches_the_oracle(case: tuple[Schedule, int, int]) -> None:
    schedule, a, b = case
    assert business_seconds(schedule, at(a, schedule.time_zone), at(b)) == oracle_seconds(schedule, a, b)


@settings(max_examples=100, deadline=None)
@given(cases(), spread(3 * 3600))
def test_is_open_and_next_open_match_the_oracle(case: tuple[Schedule, int, int], probe: int) -> None:
    schedule, a, _ = case
    u = a + probe
    assert is_open(schedule, at(u)) == oracle_open(schedule, u)
    if not schedule.has_open_time:
        with pytest.raises(ValueError, match="no open time"):
            next_open(schedule, at(u))
        return
    opened = int(next_open(schedule, at(u)).timestamp())
    assert opened >= u
    assert oracle_open(schedule, opened)
    # Everything before it is closed (checked second by second for up to 3 hours).
    assert not any(oracle_open(schedule, v) for v in range(u, min(opened, u + 2 * 3600)))


@settings(max_examples=200, deadline=None)
@given(cases(), spread(4 * 3600))
def test_add_business_seconds_is_the_inverse_and_minimal(case: tuple[Schedule, int, int], n: int) -> None:
    schedule, a, _ = case
    if not schedule.has_open_time:
        with pytest.raises(ValueError, match="no open time"):
            add_business_seconds(schedule, at(a), n)
        return
    start = at(a, "America/New_York")
    result = add_business_seconds(schedule, start, n)
    assert result.tzinfo is start.tzinfo
    assert business_seconds(schedule, start, result) == n
    if n == 0:
        assert result == next_open(schedule, start)
    else:
        # Minimal: one second earlier, not all of it has elapsed; and the last second was open.
        # (UTC arithmetic: within one zone Python subtracts wall-clock times, ignoring fold.)
        assert business_seconds(schedule, start, at(int(result.timestamp()) - 1)) == n - 1
        assert oracle_open(schedule, int(result.timestamp()) - 1)


@settings(max_examples=40, deadline=None)
@given(cases(), spread(2 * 3600))
def test_add_matches_the_oracle_stepping_forward(case: tuple[Schedule, int, int], n: int) -> None:
    schedule, a, _ = case
    if not schedule.has_open_time:
        return
    expected, counted, u = None, 0, a
    while u < a + 4 * 3600:
        if (counted == n and oracle_open(schedule, u)) if n == 0 else counted == n:
            expected = u
            break
        counted += oracle_open(schedule, u)
        u += 1
    if expected is not None:
        assert int(add_business_seconds(schedule, at(a), n).timestamp()) == expected


# -- explicit cases -------------------------------------------------------------------------------


def every_day(zone: str, start: time, end: time, holidays: frozenset[date] = frozenset()) -> Schedule:
    return Schedule(zone, tuple(Interval(d, start, end) for d in range(7)), holidays)


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2025, 3, 30), 2),  # spring forward 02:00 -> 03:00
        ("Europe/Berlin", date(2025, 10, 26), 4),  # fall back 03:00 -> 02:00
        ("America/New_York", date(2025, 3, 9), 2),
        ("America/New_York", date(2025, 11, 2), 4),
        ("Europe/Berlin", date(2025, 6, 1), 3),
    ],
)
def test_01_to_04_on_dst_days(zone: str, day: date, hours: int) -> None:
    tz = ZoneInfo(zone)
    schedule = every_day(zone, time(1), time(4))
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    assert business_seconds(schedule, start, end) == hours * 3600


def test_boundary_in_the_skipped_hour_takes_effect_when_the_clock_jumps() -> None:
    schedule = every_day("Europe/Berlin", time(2, 30), time(5))
    day = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert next_open(schedule, day) == datetime(2025, 3, 30, 3, tzinfo=BERLIN)
    assert business_seconds(schedule, day, day + timedelta(days=1)) == 2 * 3600
    assert add_business_seconds(schedule, day, 60) == datetime(2025, 3, 30, 3, 1, tzinfo=BERLIN)


def test_boundary_in_the_repeated_hour_is_passed_twice() -> None:
    schedule = every_day("Europe/Berlin", time(0), time(2, 30))
    first_0230 = datetime(2025, 10, 26, 2, 30, tzinfo=BERLIN)  # fold=0: still summer time
    second_0200 = datetime(2025, 10, 26, 2, 0, fold=1, tzinfo=BERLIN)
    assert not is_open(schedule, first_0230)
    assert is_open(schedule, second_0200)
    assert next_open(schedule, first_0230) == second_0200
    # 00:00-02:30 CEST (2.5 h) plus the second 02:00-02:30 CET.
    assert (
        business_seconds(schedule, datetime(2025, 10, 26, tzinfo=BERLIN), datetime(2025, 10, 27, tzinfo=BERLIN))
        == 3 * 3600
    )


def test_new_york_office_hours_across_spring_forward() -> None:
    schedule = Schedule("America/New_York", tuple(Interval(d, time(9), time(17)) for d in range(5)))
    friday_noon = datetime(2025, 3, 7, 12, tzinfo=NEW_YORK)
    assert business_seconds(schedule, friday_noon, datetime(2025, 3, 10, 12, tzinfo=NEW_YORK)) == 8 * 3600
    assert add_business_seconds(schedule, friday_noon, 8 * 3600) == datetime(2025, 3, 10, 12, tzinfo=NEW_YORK)


def test_past_midnight_interval_and_holiday_closes_only_its_own_date() -> None:
    # Fri 22:00 - Sat 06:00; Saturday 2025-05-03 is a holiday, Friday 2025-05-09 is one.
    schedule = Schedule(
        "Europe/Berlin", (Interval(4, time(22), time(6)),), frozenset({date(2025, 5, 3), date(2025, 5, 9)})
    )
    week1 = datetime(2025, 5, 2, tzinfo=BERLIN)
    assert business_seconds(schedule, week1, week1 + timedelta(days=2)) == 2 * 3600  # Friday's part only
    week2 = datetime(2025, 5, 9, tzinfo=BERLIN)
    assert business_seconds(schedule, week2, week2 + timedelta(days=2)) == 6 * 3600  # Saturday's part only
    week3 = datetime(2025, 5, 16, tzinfo=BERLIN)
    assert business_seconds(schedule, week3, week3 + timedelta(days=2)) == 8 * 3600


def test_sunday_into_monday_wraps_the_week() -> None:
    schedule = Schedule("UTC", (Interval(6, time(23), time(1)),))
    sunday = datetime(2025, 1, 5, 22, tzinfo=UTC)
    assert business_seconds(schedule, sunday, sunday + timedelta(hours=4)) == 7200
    assert is_open(schedule, datetime(2025, 1, 6, 0, 30, tzinfo=UTC))


def test_year_long_span_is_exact_and_fast() -> None:
    federal_2025 = frozenset(
        date(2025, m, d)
        for m, d in [(1, 1), (1, 20), (2, 17), (5, 26), (6, 19), (7, 4), (9, 1), (10, 13), (11, 11), (11, 27), (12, 25)]
    )
    schedule = Schedule("America/New_York", tuple(Interval(d, time(9), time(17)) for d in range(5)), federal_2025)
    start, end = datetime(2025, 1, 1, tzinfo=NEW_YORK), datetime(2026, 1, 1, tzinfo=NEW_YORK)
    began = stopwatch.perf_counter()
    assert business_seconds(schedule, start, end) == (261 - 11) * 8 * 3600
    assert stopwatch.perf_counter() - began < 1.0  # a table build of a year or two, no per-second work
    assert add_business_seconds(schedule, start, 250 * 8 * 3600) == datetime(2025, 12, 31, 17, tzinfo=NEW_YORK)


def test_whole_day_intervals_count_real_time_across_dst() -> None:
    schedule = every_day("Europe/Berlin", time(0), time(0))
    start, end = datetime(2025, 1, 1, tzinfo=BERLIN), datetime(2026, 1, 1, tzinfo=BERLIN)
    assert business_seconds(schedule, start, end) == int((end - start).total_seconds()) == 365 * 86400
    assert business_seconds(schedule, start, datetime(2025, 4, 1, tzinfo=BERLIN)) == 90 * 86400 - 3600


def test_spans_across_years_and_tables_growing_backwards() -> None:
    schedule = every_day("Asia/Kolkata", time(10), time(12))
    tz = ZoneInfo("Asia/Kolkata")
    assert business_seconds(schedule, datetime(2030, 1, 1, tzinfo=tz), datetime(2030, 1, 3, tzinfo=tz)) == 4 * 3600
    assert business_seconds(schedule, datetime(2020, 1, 1, tzinfo=tz), datetime(2030, 1, 1, tzinfo=tz)) == 3653 * 7200
    assert add_business_seconds(schedule, datetime(2020, 1, 1, tzinfo=tz), 3653 * 7200) == datetime(
        2029, 12, 31, 12, tzinfo=tz
    )


def test_microseconds_are_dropped() -> None:
    schedule = every_day("UTC", time(9), time(17))
    start = datetime(2025, 1, 1, 8, 59, 59, 999_999, tzinfo=UTC)
    assert business_seconds(schedule, start, datetime(2025, 1, 1, 9, 0, 1, 500_000, tzinfo=UTC)) == 1
    assert not is_open(schedule, start)


def test_errors() -> None:
    schedule = every_day("UTC", time(9), time(17))
    aware = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="start must be an aware datetime"):
        business_seconds(schedule, datetime(2025, 1, 1), aware)
    with pytest.raises(ValueError, match="end must be an aware datetime"):
        business_seconds(schedule, aware, datetime(2025, 1, 2))
    with pytest.raises(ValueError, match="is before start"):
        business_seconds(schedule, aware, aware - timedelta(seconds=1))
    with pytest.raises(ValueError, match="must not be negative"):
        add_business_seconds(schedule, aware, -1)
    with pytest.raises(ValueError, match="whole number"):
        add_business_seconds(schedule, aware, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="naive"):
        is_open(schedule, datetime(2025, 1, 1))
    closed = Schedule("UTC", ())
    with pytest.raises(ValueError, match="no open time"):
        add_business_seconds(closed, aware, 10)
    with pytest.raises(ValueError, match="no open time"):
        next_open(closed, aware)
    assert business_seconds(closed, aware, aware + timedelta(days=3)) == 0
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        Schedule("Mars/Olympus", ())
    with pytest.raises(ValueError, match="zero-length"):
        Interval(0, time(9), time(9))
    with pytest.raises(ValueError, match="weekday"):
        Interval(7, time(9), time(10))


def test_instants_outside_1900_to_2199_are_refused() -> None:
    schedule = every_day("UTC", time(9), time(17))
    with pytest.raises(ValueError, match="outside the supported range"):
        business_seconds(schedule, datetime(1899, 12, 31, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="outside the supported range"):
        is_open(schedule, datetime(2200, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="beyond the supported range"):
        add_business_seconds(schedule, datetime(2199, 12, 1, tzinfo=UTC), 100 * 8 * 3600)
    assert business_seconds(schedule, datetime(1900, 1, 1, tzinfo=UTC), datetime(1900, 1, 2, tzinfo=UTC)) == 8 * 3600


def test_one_second_apart_intervals_stay_apart() -> None:
    schedule = Schedule("UTC", (Interval(0, time(9), time(12)), Interval(0, time(12, 0, 1), time(13))))
    monday = datetime(2025, 1, 6, tzinfo=UTC)
    assert not is_open(schedule, monday.replace(hour=12))
    assert business_seconds(schedule, monday, monday + timedelta(days=1)) == 4 * 3600 - 1
    assert add_business_seconds(schedule, monday.replace(hour=11, minute=59, second=59), 1) == monday.replace(hour=12)
    assert add_business_seconds(schedule, monday.replace(hour=11, minute=59, second=59), 2) == monday.replace(
        hour=12, second=2
    )


def test_holidays_forever_never_loop() -> None:
    # Open only on 2025-01-01 (a Wednesday), which is a holiday: open again on the next Wednesday.
    schedule = Schedule("UTC", (Interval(2, time(9), time(10)),), frozenset({date(2025, 1, 1)}))
    assert next_open(schedule, datetime(2025, 1, 1, tzinfo=UTC)) == datetime(2025, 1, 8, 9, tzinfo=UTC)
    long_closed = Schedule(
        "UTC", (Interval(2, time(9), time(10)),), frozenset(date(2025, 1, 1) + timedelta(days=d) for d in range(3000))
    )
    assert next_open(long_closed, datetime(2025, 1, 1, tzinfo=UTC)).date() > date(2033, 1, 1)


def test_find_overlap() -> None:
    monday = Interval(0, time(9), time(12))
    assert find_overlap([monday, Interval(0, time(12), time(14))]) is None
    assert find_overlap([monday, Interval(0, time(11), time(13))]) == (0, 1)
    sunday_night = Interval(6, time(22), time(10))  # runs into Monday morning
    assert find_overlap([monday, Interval(3, time(9), time(10)), sunday_night]) == (0, 2)
    assert find_overlap([monday, monday]) == (0, 1)
    assert find_overlap([Interval(4, time(22), time(6)), Interval(5, time(6), time(9))]) is None
    assert find_overlap([Interval(2, time(0), time(0)), Interval(2, time(23), time(23, 30))]) is not None


def test_schedules_are_hashable_values() -> None:
    a = every_day("UTC", time(9), time(17), frozenset({date(2025, 1, 1)}))
    b = every_day("UTC", time(9), time(17), frozenset({date(2025, 1, 1)}))
    business_seconds(a, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
