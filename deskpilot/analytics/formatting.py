"""Figures as people read them: durations in days, hours and minutes, percentages with one
decimal, counts with thousands separators, and "—" for no data.

The pages, the executive PDF and the scheduled e-mails show a KPI through these functions, so a
figure reads the same everywhere; the exports write raw values instead (``analytics.tables``).
"""

from __future__ import annotations

import math

from deskpilot.analytics.kpis import Kpi, Unit

# What a figure without data reads (a rate over zero tickets is not 0 %).
NO_DATA = "—"

_MINUTE = 60
_HOUR = 3600
_DAY = 86400


def _nearest(value: float) -> int:
    # Halves round up (Python's round() would send 216.5 hours to 216, "9 d" for 9 d 0.5 h).
    return math.floor(value + 0.5)


def duration(seconds: float | None) -> str:
    """45 → "45 s", 720 → "12 min", 11520 → "3 h 12 min", 11100 → "3 h 05 min", 100800 → "1 d 4 h".

    Precision falls as the figure grows (seconds under a minute, minutes under a day, hours
    beyond), as a manager compares "3 h 05 min" with "3 h 12 min", not seconds of a day. The
    minutes are padded after hours so a column of them lines up."""
    if seconds is None:
        return NO_DATA
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    if _nearest(rest) < _MINUTE:
        return f"{sign}{_nearest(rest)} s"
    minutes = _nearest(rest / _MINUTE)
    if minutes < 60:
        return f"{sign}{minutes} min"
    if minutes < 24 * 60:
        hours, mins = divmod(minutes, 60)
        return f"{sign}{hours} h" if mins == 0 else f"{sign}{hours} h {mins:02d} min"
    hours = _nearest(rest / _HOUR)
    days, hours = divmod(hours, 24)
    return f"{sign}{days} d" if hours == 0 else f"{sign}{days} d {hours} h"


def exact_duration(seconds: float) -> str:
    """A duration to the second in the style of ``duration``, every unit it holds shown: what a
    target's threshold reads, so it can be typed back as it is shown (analytics.targets parses
    "1 d 2 h 05 min 30 s"). 14400 → "4 h", 12960 → "3 h 36 min", 90 → "1 min 30 s", 0 → "0 s"."""
    total = _nearest(abs(seconds))
    days, rest = divmod(total, _DAY)
    hours, rest = divmod(rest, _HOUR)
    minutes, secs = divmod(rest, _MINUTE)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes:02d} min" if parts else f"{minutes} min")
    if secs:
        parts.append(f"{secs:02d} s" if parts else f"{secs} s")
    return ("-" if seconds < 0 and total else "") + (" ".join(parts) or "0 s")


def percent(value: float | None, digits: int = 1) -> str:
    """A percentage 0-100: 95.24 → "95.2 %"."""
    if value is None:
        return NO_DATA
    return f"{value:.{digits}f} %"


def number(value: float | None, digits: int = 0) -> str:
    """A count or a plain figure with thousands separators: 12345 → "12,345"."""
    if value is None:
        return NO_DATA
    return f"{value:,.{digits}f}"


def kpi_value(kpi: Kpi, value: float | None) -> str:
    """A KPI's value in its unit."""
    if kpi.unit is Unit.SECONDS:
        return duration(value)
    if kpi.unit is Unit.PERCENT:
        return percent(value)
    return number(value)


def kpi_change(kpi: Kpi, value: float | None, previous: float | None) -> str:
    """The change from the previous period in the KPI's unit, signed: "+12", "-1 h 05 min",
    "+2.5 pts" (a rate moves by percentage points, not by a percentage of itself)."""
    if value is None or previous is None:
        return NO_DATA
    delta = value - previous
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else "-"
    if kpi.unit is Unit.SECONDS:
        return sign + duration(abs(delta))
    if kpi.unit is Unit.PERCENT:
        return f"{sign}{abs(delta):.1f} pts"
    return sign + number(abs(delta))


def relative_change(value: float | None, previous: float | None) -> float | None:
    """The change as a percentage of the previous value (None without a previous figure or
    when it was zero: growth from nothing has no ratio)."""
    if value is None or previous is None or previous == 0:
        return None
    return 100.0 * (value - previous) / abs(previous)


def signed_percent(value: float | None) -> str:
    """A relative change: 41.6 → "+42 %", -8.2 → "-8 %"."""
    if value is None:
        return NO_DATA
    rounded = round(value)
    return f"+{rounded} %" if rounded > 0 else f"{rounded} %"
