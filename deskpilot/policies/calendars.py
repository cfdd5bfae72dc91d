"""From a stored calendar to the pure ``Schedule`` the business-time functions take.

A ``Schedule`` keeps its lookup table (built lazily, about a year at a time) on the instance, so the
same instance should serve every call: ``schedule_for`` keeps one per calendar, keyed by the
calendar's ``updated_at`` (bumped by every change to it, its intervals or its holidays) and the
years asked for. The cache is per process and bounded; a stale entry is never used because a change
moves ``updated_at`` (so pass a calendar loaded for the request or job at hand, not one kept from
long ago). Public holidays are known for the years asked for only (``default_years()`` unless
given): a span reaching beyond them sees no public holidays there, custom ones always.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from deskpilot.policies.business_time import Interval, Schedule
from deskpilot.policies.holidays import holiday_dates
from deskpilot.policies.models import BusinessCalendar

CACHE_SIZE = 256
_cache: OrderedDict[tuple[int, datetime, tuple[int, ...]], Schedule] = OrderedDict()
_lock = threading.Lock()


def default_years() -> range:
    """Public holidays are looked up for these years unless the caller asks for others: two back
    (tickets still being measured) and three ahead (due dates)."""
    year = timezone.now().year
    return range(year - 2, year + 4)


def build_schedule(calendar: BusinessCalendar, years: Iterable[int]) -> Schedule:
    """The calendar as a ``Schedule`` (two queries), without caching. Public holidays are included
    for ``years`` only; custom holidays always."""
    intervals = tuple(Interval(i.weekday, i.start, i.end) for i in calendar.intervals.all())
    custom = [h.date for h in calendar.custom_holidays.all()]
    dates = holiday_dates(calendar.holiday_country, calendar.holiday_subdivision, years=years, custom=custom)
    return Schedule(calendar.time_zone, intervals, dates)


def schedule_for(calendar: BusinessCalendar, years: Iterable[int] | None = None) -> Schedule:
    """The calendar's ``Schedule``, the same instance for as long as the calendar is unchanged."""
    wanted = tuple(sorted(set(default_years() if years is None else years)))
    key = (calendar.pk, calendar.updated_at, wanted)
    with _lock:
        schedule = _cache.get(key)
        if schedule is not None:
            _cache.move_to_end(key)
            return schedule
    schedule = build_schedule(calendar, wanted)
    with _lock:
        schedule = _cache.setdefault(key, schedule)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return schedule


def clear_cache() -> None:
    with _lock:
        _cache.clear()
