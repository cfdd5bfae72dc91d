"""Business-time throughput: ``.venv/bin/python -m bench.business_time [--seconds 2]``.

Calls ``deskpilot.policies.business_time.business_seconds`` on a weekday calendar (Europe/Berlin,
Mon-Fri 09:00-12:30 and 13:30-18:00, Sat 22:00-02:00 past midnight, the German 2025-2027 public
holidays) for spans of a few hours to a few days, a week and a year, with start instants spread over
three years (so DST changes and holidays are crossed), and prints calls per second for each, plus
``add_business_seconds`` for a few hours. The product issue's target is at least 200,000 calls/s for
typical spans. Pure Python, no database; prints the figures and writes nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from deskpilot.policies.business_time import Interval, Schedule, add_business_seconds, business_seconds

TARGET_PER_SECOND = 200_000.0

GERMAN_HOLIDAYS = [
    date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1), date(2025, 5, 29),
    date(2025, 6, 9), date(2025, 10, 3), date(2025, 12, 25), date(2025, 12, 26),
    date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14),
    date(2026, 5, 25), date(2026, 10, 3), date(2026, 12, 25), date(2026, 12, 26),
    date(2027, 1, 1), date(2027, 3, 26), date(2027, 3, 29), date(2027, 5, 1), date(2027, 5, 6),
    date(2027, 5, 17), date(2027, 10, 3), date(2027, 12, 25), date(2027, 12, 26),
]  # fmt: skip


def schedule() -> Schedule:
    intervals = [Interval(d, clock(9), clock(12, 30)) for d in range(5)]
    intervals += [Interval(d, clock(13, 30), clock(18)) for d in range(5)]
    intervals.append(Interval(5, clock(22), clock(2)))
    return Schedule("Europe/Berlin", tuple(intervals), frozenset(GERMAN_HOLIDAYS))


def pairs(span: Callable[[random.Random], timedelta], n: int = 10_000) -> list[tuple[datetime, datetime]]:
    rng = random.Random(5)
    origin = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(n):
        start = origin + timedelta(seconds=rng.randrange(2 * 365 * 86_400))
        out.append((start, start + span(rng)))
    return out


def rate(fn: Callable[[], int], calls: int, budget: float) -> float:
    fn()  # warm: builds the schedule's table for the instants used
    rounds = 0
    began = time.perf_counter()
    while True:
        fn()
        rounds += 1
        elapsed = time.perf_counter() - began
        if elapsed >= budget:
            return rounds * calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent measuring each case")
    args = parser.parse_args()
    sched = schedule()
    cases: dict[str, list[tuple[datetime, datetime]]] = {
        "short (1-72 h)": pairs(lambda r: timedelta(seconds=r.randrange(3600, 72 * 3600))),
        "week-long (7 days)": pairs(lambda r: timedelta(days=7)),
        "year-long (365 days)": pairs(lambda r: timedelta(days=365)),
    }
    print(f"load average {os.getloadavg()[0]:.2f}, target >= {TARGET_PER_SECOND:,.0f} calls/s (short spans)")
    for label, spans in cases.items():

        def run(spans: list[tuple[datetime, datetime]] = spans) -> int:
            total = 0
            for start, end in spans:
                total += business_seconds(sched, start, end)
            return total

        per_second = rate(run, len(spans), args.seconds)
        verdict = ("ok" if per_second >= TARGET_PER_SECOND else "BELOW TARGET") if label.startswith("short") else ""
        print(f"business_seconds {label:22} {per_second:12,.0f} calls/s {verdict}")
    adds = [(start, int((end - start).total_seconds()) // 4) for start, end in cases["short (1-72 h)"]]

    def run_add() -> int:
        for start, seconds in adds:
            add_business_seconds(sched, start, seconds)
        return len(adds)

    print(f"add_business_seconds {'short (0.25-18 h)':18} {rate(run_add, len(adds), args.seconds):12,.0f} calls/s")


if __name__ == "__main__":
    main()
