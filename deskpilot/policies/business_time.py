"""Business time: when a business-hours calendar is open, and how much open time lies between instants.

Pure computation over plain values (no Django), so it can be property-tested against a brute-force
oracle. The Django side (``policies/calendars.py``) turns a stored calendar into a ``Schedule``.

The rule, stated once
---------------------
An instant is *open* when the wall clock of the calendar's time zone shows a local date that is not a
holiday and a time of day inside one of that weekday's intervals. Everything else follows from it:

- Intervals are half-open, ``[start, end)``. ``end <= start`` means the interval runs past midnight
  into the next day (Fri 22:00-06:00 is open Fri 22:00-24:00 and Sat 00:00-06:00); 00:00-00:00 is the
  whole day. Any other ``start == end`` is refused as zero-length.
- A holiday closes its own local date, 00:00-24:00, and nothing else: the part of Fri 22:00-06:00
  after midnight is closed when Saturday is a holiday, the part before midnight stays open; an
  interval starting on a holiday evening is open again from midnight when the next day is not one.
- DST: it is the wall clock that decides. 01:00-04:00 on the day clocks spring forward (02:00 ->
  03:00) is open 2 real hours, on the day they fall back (03:00 -> 02:00) 4 real hours. A boundary
  that falls in the skipped hour takes effect when the clock jumps (02:30-05:00 opens at 03:00).
  A boundary in the repeated hour is passed twice: 00:00-02:30 on a fall-back day is open until the
  first 02:30, closed until the clocks go back, and open again from the second 02:00 to 02:30.
- Instants are taken to the whole second (microseconds are dropped), so results are whole seconds.
  Supported instants run from 1900 to 2199 (UTC); outside them the functions raise ValueError.
- Results are returned in the time zone of the datetime passed in. Compare and subtract them in
  UTC: Python compares two datetimes of the same zone by wall clock, ignoring ``fold``.
- ``add_business_seconds(s, t, 0)`` is ``t`` when ``t`` is open and otherwise the next open instant:
  a business-hours span that starts outside business hours starts counting when the calendar opens.

How it stays fast
-----------------
A ``Schedule`` builds, once and lazily, a table of its open intervals in UTC epoch seconds with a
running total of open seconds (``_Table``), one chunk of about a year at a time around the instants
asked about. ``business_seconds`` is then two binary searches, whatever the span; building a year
costs one pass over its days (no per-minute or per-second loop anywhere). DST transitions are found by
probing the zone every 6 hours and bisecting to the second where the offset changes; zones changing
offset twice within 6 hours (none in tzdata since 1900) would be missed.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "Interval",
    "Schedule",
    "add_business_seconds",
    "business_seconds",
    "find_overlap",
    "is_open",
    "next_open",
]

DAY = 86_400
WEEK = 7 * DAY
_CHUNK = 366 * DAY  # the table grows by about a year of instants at a time
_PROBE = 6 * 3600  # zone offsets are probed this often when looking for DST transitions
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Supported instants, 1900 to 2199 (UTC): the table of a schedule grows to cover the instants asked
# about, so a bogus year must not make it span millennia (about 600 entries a year for a weekday
# calendar; three centuries stay a few megabytes).
_MIN_TS = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp())
_MAX_TS = int(datetime(2200, 1, 1, tzinfo=UTC).timestamp())
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True, slots=True)
class Interval:
    """Open from ``start`` to ``end`` (local wall-clock times) on ``weekday`` (0 = Monday).
    ``end <= start`` runs past midnight into the next day; 00:00-00:00 is the whole day."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {self.weekday}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is not None or value.microsecond:
                raise ValueError(f"{name} must be a local time of day in whole seconds, not {value!r}")
        if self.start == self.end and self.start != time(0):
            raise ValueError(
                f"interval {self.start:%H:%M}-{self.end:%H:%M} is zero-length (use 00:00-00:00 for a whole day)"
            )

    @property
    def length(self) -> int:
        """Seconds of wall-clock time the interval spans (past midnight included)."""
        length = (_seconds(self.end) - _seconds(self.start)) % DAY
        return length or DAY

    def week_ranges(self) -> list[tuple[int, int]]:
        """The interval as half-open ranges of seconds since Monday 00:00, wrapped at the week's end."""
        start = self.weekday * DAY + _seconds(self.start)
        end = start + self.length
        if end <= WEEK:
            return [(start, end)]
        return [(start, WEEK), (0, end - WEEK)]

    def __str__(self) -> str:
        return f"{_WEEKDAYS[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"


def find_overlap(intervals: list[Interval] | tuple[Interval, ...]) -> tuple[int, int] | None:
    """The positions ``(i, j)``, ``i < j``, of two intervals of the week that overlap (past midnight
    and Sunday into Monday included), or None."""
    ranges = sorted((s, e, i) for i, interval in enumerate(intervals) for s, e in interval.week_ranges())
    for (_, prev_end, prev), (start, _, current) in pairwise(ranges):
        if start < prev_end:
            return min(prev, current), max(prev, current)
    return None


class _Table:
    """Open intervals ``[starts[i], ends[i])`` (UTC epoch seconds, sorted, disjoint) covering the
    instants ``[lo, hi)``; ``cum[i]`` is the open time from ``lo`` to ``starts[i]`` (``cum[n]`` the
    total). Never mutated once published, so readers in other threads need no lock."""

    __slots__ = ("cum", "ends", "hi", "lo", "starts")

    def __init__(self, lo: int, hi: int, starts: list[int], ends: list[int]) -> None:
        self.lo, self.hi, self.starts, self.ends = lo, hi, starts, ends
        cum = [0] * (len(starts) + 1)
        total = 0
        for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
            cum[i] = total
            total += e - s
        cum[len(starts)] = total
        self.cum = cum

    def open_before(self, x: int) -> int:
        """Open seconds from ``lo`` to ``x`` (``lo <= x <= hi``)."""
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        if x < self.ends[i]:
            return self.cum[i] + x - self.starts[i]
        return self.cum[i + 1]


@dataclass(frozen=True)
class Schedule:
    """A business-hours calendar as a plain value: an IANA time zone, weekly intervals and holiday
    dates (local dates closed all day). Frozen and hashable; its lookup table is built lazily and kept
    on the instance, so reuse one instance for many calls."""

    time_zone: str
    intervals: tuple[Interval, ...]
    holidays: frozenset[date] = frozenset()
    _pieces: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False, hash=False)
    _tz: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _table: _Table | None = field(default=None, init=False, repr=False, compare=False, hash=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            tz = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}") from None
        object.__setattr__(self, "intervals", tuple(self.intervals))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        # Per weekday, the open ranges of that local date in seconds since midnight, merged.
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for interval in self.intervals:
            start = _seconds(interval.start)
            end = start + interval.length
            per_day[interval.weekday].append((start, min(end, DAY)))
            if end > DAY:
                per_day[(interval.weekday + 1) % 7].append((0, end - DAY))
        pieces: list[tuple[tuple[int, int], ...]] = []
        for ranges in per_day:
            merged: list[tuple[int, int]] = []
            for s, e in sorted(ranges):
                if merged and s <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], e))
                else:
                    merged.append((s, e))
            pieces.append(tuple(merged))
        object.__setattr__(self, "_pieces", tuple(pieces))
        object.__setattr__(self, "_tz", tz)

    @property
    def has_open_time(self) -> bool:
        return any(self._pieces)

    # -- the lookup table -------------------------------------------------------------------------

    def _covering(self, a: int, b: int) -> _Table:
        """The table, grown (under a lock; readers keep using the old one meanwhile) to cover [a, b]."""
        table = self._table
        if table is not None and table.lo <= a and b <= table.hi:
            return table
        if a < _MIN_TS or b > _MAX_TS:
            raise ValueError("instant outside the supported range (years 1900 to 2199)")
        with self._lock:
            table = self._table
            if table is None:
                lo = a // _CHUNK * _CHUNK
                hi = (b // _CHUNK + 1) * _CHUNK
                starts, ends = self._build(lo, hi)
                table = _Table(lo, hi, starts, ends)
            elif not (table.lo <= a and b <= table.hi):
                lo = min(table.lo, a // _CHUNK * _CHUNK)
                hi = max(table.hi, (b // _CHUNK + 1) * _CHUNK)
                starts, ends = self._build(lo, table.lo) if lo < table.lo else ([], [])
                self._append(starts, ends, table.starts, table.ends)
                if hi > table.hi:
                    self._append(starts, ends, *self._build(table.hi, hi))
                table = _Table(lo, hi, starts, ends)
            object.__setattr__(self, "_table", table)
            return table

    @staticmethod
    def _append(starts: list[int], ends: list[int], more_starts: list[int], more_ends: list[int]) -> None:
        """Append intervals, merging one that starts where the last one ends (chunk seams)."""
        if more_starts and ends and ends[-1] == more_starts[0]:
            ends[-1] = more_ends[0]
            starts.extend(more_starts[1:])
            ends.extend(more_ends[1:])
        else:
            starts.extend(more_starts)
            ends.extend(more_ends)

    def _offset(self, u: int) -> int:
        offset = datetime.fromtimestamp(u, self._tz).utcoffset()
        assert offset is not None
        return offset.days * DAY + offset.seconds

    def _segments(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """``[lo, hi)`` cut where the zone's UTC offset changes: (start, end, offset) triples."""
        segments: list[tuple[int, int, int]] = []
        start, offset = lo, self._offset(lo)
        u = lo
        while u < hi:
            nxt = min(u + _PROBE, hi)
            probe = self._offset(nxt)
            if probe != offset:
                # Bisect to the first second with the new offset.
                left, right = u, nxt
                while right - left > 1:
                    mid = (left + right) // 2
                    if self._offset(mid) == offset:
                        left = mid
                    else:
                        right = mid
                segments.append((start, right, offset))
                start, offset = right, self._offset(right)
                u = right
            else:
                u = nxt
        segments.append((start, hi, offset))
        return segments

    def _build(self, lo: int, hi: int) -> tuple[list[int], list[int]]:
        """Open intervals within ``[lo, hi)``: for each stretch of constant UTC offset, the wall-clock
        open ranges of the local dates it shows, mapped back to UTC."""
        starts: list[int] = []
        ends: list[int] = []
        holidays = self.holidays
        pieces = self._pieces
        for seg_lo, seg_hi, offset in self._segments(lo, hi):
            wall_lo, wall_hi = seg_lo + offset, seg_hi + offset
            for day in range(wall_lo // DAY, (wall_hi - 1) // DAY + 1):
                day_pieces = pieces[(day + 3) % 7]  # 1970-01-01 was a Thursday (weekday 3)
                if not day_pieces or (holidays and date.fromordinal(day + _EPOCH_ORDINAL) in holidays):
                    continue
                base = day * DAY
                for s, e in day_pieces:
                    s = max(base + s, wall_lo) - offset
                    e = min(base + e, wall_hi) - offset
                    if s < e:
                        if ends and ends[-1] == s:
                            ends[-1] = e
                        else:
                            starts.append(s)
                            ends.append(e)
        return starts, ends


# -- public functions ------------------------------------------------------------------------------


def _epoch(t: datetime, name: str) -> int:
    if t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), not naive {t.isoformat()}")
    return math.floor(t.timestamp())


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Open seconds in ``[start, end)``."""
    a = _epoch(start, "start")
    b = _epoch(end, "end")
    # Not ``end < start``: Python compares two datetimes sharing a tzinfo by wall clock, ignoring
    # fold, so the second 01:30 of a fall-back night would look earlier than the first 01:45.
    if b < a or (b == a and end.timestamp() < start.timestamp()):
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return business_seconds_between(schedule, a, b)


def business_seconds_between(schedule: Schedule, a: int, b: int) -> int:
    """``business_seconds`` on Unix seconds (``a <= b``), for callers that keep instants as
    integers (the SLA clock): no datetime is made or read."""
    table = schedule._table
    if table is None or a < table.lo or b > table.hi:
        table = schedule._covering(a, b)
    return table.open_before(b) - table.open_before(a)


def is_open(schedule: Schedule, t: datetime) -> bool:
    x = _epoch(t, "t")
    table = schedule._covering(x, x)
    i = bisect_right(table.starts, x) - 1
    return i >= 0 and x < table.ends[i]


def _next_open_epoch(schedule: Schedule, x: int) -> int:
    if not schedule.has_open_time:
        raise ValueError("the schedule has no open time at all")
    hi = x
    while True:
        table = schedule._covering(x, hi)
        i = bisect_right(table.starts, x) - 1
        if i >= 0 and x < table.ends[i]:
            return x
        if i + 1 < len(table.starts) and table.starts[i + 1] <= _MAX_TS:
            return table.starts[i + 1]
        # Nothing open before the table's end (e.g. a run of holidays): grow it by a chunk.
        hi = table.hi + 1
        if hi > _MAX_TS:
            raise ValueError("the schedule has no open time before the end of the supported range")


def next_open(schedule: Schedule, t: datetime) -> datetime:
    """``t`` itself when the schedule is open at ``t``, otherwise the instant it next opens (in
    ``t``'s time zone). ValueError when it never opens."""
    x = _epoch(t, "t")
    y = _next_open_epoch(schedule, x)
    return t if y == x else datetime.fromtimestamp(y, t.tzinfo)


def add_business_seconds(schedule: Schedule, start: datetime, seconds: int) -> datetime:
    """The earliest instant by which ``seconds`` of business time have passed since ``start`` (in
    ``start``'s time zone). Counting begins at the next open instant when ``start`` is closed, so 0
    seconds from a closed instant is the next open instant (and ``start`` itself when it is open)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"seconds must be a whole number of seconds, not {seconds!r}")
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, not {seconds}")
    x = _epoch(start, "start")
    y = add_business_seconds_at(schedule, x, seconds)
    return start if y == x else datetime.fromtimestamp(y, start.tzinfo)


def add_business_seconds_at(schedule: Schedule, x: int, seconds: int) -> int:
    """``add_business_seconds`` on Unix seconds (``seconds >= 0``), for callers that keep instants
    as integers (the SLA clock)."""
    if not schedule.has_open_time:
        raise ValueError("the schedule has no open time at all")
    if seconds == 0:
        return _next_open_epoch(schedule, x)
    table = schedule._covering(x, x)
    target = table.open_before(x) + seconds
    lo = table.lo
    while table.cum[-1] < target:
        # Tables only ever grow, and a table that starts at ``lo`` keeps counting from it.
        if table.hi + 1 > _MAX_TS:
            raise ValueError("the result lies beyond the supported range (years 1900 to 2199)")
        grown = schedule._covering(x, table.hi + 1)
        target += grown.open_before(lo) if grown.lo < lo else 0
        lo = grown.lo
        table = grown
    j = bisect_left(table.cum, target, 1)
    y = table.ends[j - 1] - (table.cum[j] - target)
    if y > _MAX_TS:
        raise ValueError("the result lies beyond the supported range (years 1900 to 2199)")
    return y
