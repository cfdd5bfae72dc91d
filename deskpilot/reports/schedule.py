"""When a scheduled report is due for a recipient, and which days it covers: pure functions of
the schedule, the recipient's time zone and the moment asked about.

Due moments. A report is due at ``hour``:00 local time, in the recipient's zone, on each day the
schedule sends (every day; one weekday; one day of the month, clamped to the month's length so
"the 31st" is the last day of a 30-day month and of February). Across daylight-saving changes:

- an hour that does not exist that day (clocks jump forward over it) is taken with the offset in
  force before the jump, which lands on the first instant after the gap (02:00 on a spring-forward
  night becomes 03:00 summer time): the report still goes that day;
- an hour that happens twice (clocks go back) is its first occurrence: sent once.

Catch-up. ``latest_due`` is the most recent due moment at or before now; the planner creates a
delivery for it alone, so a worker that was stopped for three days sends one report when it
comes back, not three.

The period covered is counted in the recipient's local calendar from the local date of the due
moment ("the previous day" of a report due on Tuesday 08:00 in Tokyo is Monday). The report is
built from the daily rollups, whose days are UTC days (decision 0004), so those local dates are
read as UTC days: a Tokyo manager's "Monday" is the UTC Monday, 09:00 to 09:00 their time. A
finer cut would need rollups per zone; UTC days are what the performance page shows for the same
dates, so the e-mail and the page agree. One consequence: a recipient far east of UTC sent a
report early in their morning gets the last UTC day while it is still running (e.g. UTC+10 at
08:00 gets "yesterday" 2 hours before it ends in UTC); a send hour at or after their UTC offset
avoids it.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# How far back and forward a due moment is looked for: a month and a day covers every schedule.
_SEARCH_DAYS = 32


@dataclass(frozen=True)
class Schedule:
    frequency: str  # reports.models.Frequency
    hour: int
    weekday: int | None = None  # 0 = Monday (weekly)
    day_of_month: int | None = None  # 1-31 (monthly)


def zone(name: str) -> ZoneInfo:
    """The zone named; UTC for an empty or unknown name (a zone removed from the system)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_zone(name: str) -> bool:
    return name in _zone_names()


def zone_names() -> list[str]:
    return sorted(_zone_names())


_ZONES: set[str] = set()


def _zone_names() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def sends_on(schedule: Schedule, day: datetime.date) -> bool:
    """Whether the schedule sends on this local date."""
    if schedule.frequency == "daily":
        return True
    if schedule.frequency == "weekly":
        return day.weekday() == (schedule.weekday or 0)
    if schedule.frequency == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(schedule.day_of_month or 1, last)
    raise ValueError(f"unknown frequency {schedule.frequency!r}")


def due_on(schedule: Schedule, day: datetime.date, tz: ZoneInfo) -> datetime.datetime:
    """The UTC moment of ``hour``:00 on the local date ``day`` (see the module's DST rules)."""
    # fold=0: a skipped hour takes the offset before the jump (the first instant after the gap);
    # a repeated hour is its first occurrence.
    local = datetime.datetime.combine(day, datetime.time(schedule.hour), tzinfo=tz)
    return local.astimezone(datetime.UTC)


def latest_due(schedule: Schedule, tz: ZoneInfo, now: datetime.datetime) -> datetime.datetime:
    """The most recent due moment at or before ``now``."""
    today = now.astimezone(tz).date()
    for back in range(_SEARCH_DAYS + 1):
        day = today - datetime.timedelta(days=back)
        if sends_on(schedule, day):
            moment = due_on(schedule, day, tz)
            if moment <= now:
                return moment
    raise AssertionError("every schedule sends at least once a month")  # pragma: no cover


def next_due(schedule: Schedule, tz: ZoneInfo, now: datetime.datetime) -> datetime.datetime:
    """The first due moment strictly after ``now``."""
    today = now.astimezone(tz).date()
    for ahead in range(_SEARCH_DAYS + 1):
        day = today + datetime.timedelta(days=ahead)
        if sends_on(schedule, day):
            moment = due_on(schedule, day, tz)
            if moment > now:
                return moment
    raise AssertionError("every schedule sends at least once a month")  # pragma: no cover


def local_date(moment: datetime.datetime, tz: ZoneInfo) -> datetime.date:
    return moment.astimezone(tz).date()


def period_for(period: str, send_day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """(first, last) dates, both included, that a report sent on the local date ``send_day``
    covers: always whole days before the send day."""
    day = datetime.timedelta(days=1)
    yesterday = send_day - day
    if period == "previous_day":
        return yesterday, yesterday
    if period == "previous_7_days":
        return send_day - 7 * day, yesterday
    if period == "last_30_days":
        return send_day - 30 * day, yesterday
    if period == "previous_week":
        monday = send_day - datetime.timedelta(days=send_day.weekday())
        return monday - 7 * day, monday - day
    if period == "previous_month":
        first_of_this = send_day.replace(day=1)
        last_of_previous = first_of_this - day
        return last_of_previous.replace(day=1), last_of_previous
    raise ValueError(f"unknown period {period!r}")
