"""Creating and changing business-hours calendars. Bad input raises InvalidInput naming the field
(``intervals[2].end``, ``holidays[0].date``, ``holiday_subdivision``) and writes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from django.db import transaction

from deskpilot.core.errors import InvalidInput
from deskpilot.policies import holidays as public_holidays
from deskpilot.policies.business_time import Interval, find_overlap
from deskpilot.policies.models import BusinessCalendar, BusinessInterval, CustomHoliday, known_time_zones

NAME_MAX = 200
_WEEKDAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _clean_name(value: Any, *, calendar: BusinessCalendar | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("name", "must not be empty")
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise InvalidInput("name", f"must be at most {NAME_MAX} characters")
    others = BusinessCalendar.objects.filter(name__iexact=name)
    if calendar is not None:
        others = others.exclude(pk=calendar.pk)
    if others.exists():
        raise InvalidInput("name", f"a calendar called {name!r} already exists")
    return name


def _clean_time_zone(value: Any) -> str:
    if not isinstance(value, str) or value not in known_time_zones():
        raise InvalidInput("time_zone", f"{value!r} is not a known time zone (e.g. Europe/Berlin)")
    return value


def _clean_region(country: Any, subdivision: Any) -> tuple[str, str]:
    for field, value in (("holiday_country", country), ("holiday_subdivision", subdivision)):
        if not isinstance(value, str):
            raise InvalidInput(field, "must be a code such as 'US' or 'BY', or empty")
    try:
        return public_holidays.validate_region(country, subdivision)
    except public_holidays.UnknownRegion as error:
        raise InvalidInput(error.field, str(error)) from None


def _clean_time(value: Any, field: str) -> time:
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(field, f"{value!r} is not a time of day (HH:MM)") from None
    if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
        raise InvalidInput(field, "must be a local time of day in whole seconds (HH:MM or HH:MM:SS)")
    return value


def _clean_weekday(value: Any, field: str) -> int:
    if isinstance(value, str) and value.strip().lower() in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES.index(value.strip().lower())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise InvalidInput(field, f"{value!r} is not a weekday (0 = Monday to 6 = Sunday, or its name)")
    return value


def _clean_intervals(items: Iterable[Mapping[str, Any]]) -> list[Interval]:
    intervals = []
    for index, item in enumerate(items):
        prefix = f"intervals[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(prefix, "must have weekday, start and end")
        weekday = _clean_weekday(item.get("weekday"), f"{prefix}.weekday")
        start = _clean_time(item.get("start"), f"{prefix}.start")
        end = _clean_time(item.get("end"), f"{prefix}.end")
        if start == end and start != time(0):
            raise InvalidInput(
                f"{prefix}.end", "equals the start: the interval would be empty (00:00-00:00 is a whole day)"
            )
        intervals.append(Interval(weekday, start, end))
    overlap = find_overlap(intervals)
    if overlap is not None:
        first, second = overlap
        raise InvalidInput(f"intervals[{second}]", f"{intervals[second]} overlaps {intervals[first]}")
    return intervals


def _clean_holidays(items: Iterable[Mapping[str, Any]]) -> list[tuple[date, str]]:
    cleaned: list[tuple[date, str]] = []
    seen: set[date] = set()
    for index, item in enumerate(items):
        field = f"holidays[{index}].date"
        if not isinstance(item, Mapping):
            raise InvalidInput(f"holidays[{index}]", "must have a date and optionally a name")
        value = item.get("date")
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                raise InvalidInput(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(value, date):
            raise InvalidInput(field, "must be a date (YYYY-MM-DD)")
        if value in seen:
            raise InvalidInput(field, f"{value} is listed twice")
        seen.add(value)
        name = " ".join(str(item.get("name") or "").split())
        if len(name) > NAME_MAX:
            raise InvalidInput(f"holidays[{index}].name", f"must be at most {NAME_MAX} characters")
        cleaned.append((value, name))
    return cleaned


def _replace_parts(
    calendar: BusinessCalendar, intervals: list[Interval] | None, holidays: list[tuple[date, str]] | None
) -> None:
    if intervals is not None:
        calendar.intervals.all().delete()
        BusinessInterval.objects.bulk_create(
            [BusinessInterval(calendar=calendar, weekday=i.weekday, start=i.start, end=i.end) for i in intervals]
        )
    if holidays is not None:
        calendar.custom_holidays.all().delete()
        CustomHoliday.objects.bulk_create([CustomHoliday(calendar=calendar, date=d, name=n) for d, n in holidays])


def create_calendar(
    *,
    name: str,
    time_zone: str = "UTC",
    holiday_country: str = "",
    holiday_subdivision: str = "",
    intervals: Iterable[Mapping[str, Any]] = (),
    holidays: Iterable[Mapping[str, Any]] = (),
) -> BusinessCalendar:
    """A calendar with its weekly ``intervals`` ({"weekday", "start", "end"}: weekday 0-6 or its
    name, times as ``time`` or "HH:MM") and custom ``holidays`` ({"date", "name"})."""
    values = {
        "name": _clean_name(name),
        "time_zone": _clean_time_zone(time_zone),
    }
    values["holiday_country"], values["holiday_subdivision"] = _clean_region(holiday_country, holiday_subdivision)
    clean_intervals = _clean_intervals(intervals)
    clean_holidays = _clean_holidays(holidays)
    with transaction.atomic():
        calendar = BusinessCalendar.objects.create(**values)
        _replace_parts(calendar, clean_intervals, clean_holidays)
    return calendar


def update_calendar(calendar: BusinessCalendar, **changes: Any) -> BusinessCalendar:
    """Change name, time_zone, holiday_country, holiday_subdivision, or replace the intervals or
    holidays (each the full new list)."""
    allowed = {"name", "time_zone", "holiday_country", "holiday_subdivision", "intervals", "holidays"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    name = _clean_name(changes["name"], calendar=calendar) if "name" in changes else calendar.name
    time_zone = _clean_time_zone(changes["time_zone"]) if "time_zone" in changes else calendar.time_zone
    country, subdivision = _clean_region(
        changes.get("holiday_country", calendar.holiday_country),
        changes.get("holiday_subdivision", calendar.holiday_subdivision),
    )
    intervals = _clean_intervals(changes["intervals"]) if "intervals" in changes else None
    holidays = _clean_holidays(changes["holidays"]) if "holidays" in changes else None
    with transaction.atomic():
        calendar.name, calendar.time_zone = name, time_zone
        calendar.holiday_country, calendar.holiday_subdivision = country, subdivision
        calendar.save()  # bumps updated_at, so cached schedules of the old version are not used
        _replace_parts(calendar, intervals, holidays)
    return calendar
