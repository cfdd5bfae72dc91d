"""Fixed log-spaced histogram buckets for response and resolution times, and percentiles read back
from them (pure: no Django). Daily rollups (``analytics.rollups``) count tickets per bucket, so a
median or 90th percentile over any date range and filter is a sum of a few rollup rows and an
interpolation, never a scan of every ticket.

Bucket ``i`` holds values in ``[BOUNDS[i], BOUNDS[i + 1])``; the last one is open-ended (30 days
and more). The bounds follow the targets managers set (minutes for first replies, hours and days
for resolutions), so the interpolation error, at most one bucket's width, is small where targets
are decided: within a minute under 2 minutes, within 15 minutes around an hour, a day around two.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence

MINUTE, HOUR, DAY = 60, 3600, 86400
BOUNDS: tuple[int, ...] = (
    0,
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    4 * HOUR,
    8 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    3 * DAY,
    5 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
)
BUCKETS = len(BOUNDS)  # the last bucket, [30 days, infinity), has no upper bound


def bucket_of(seconds: int) -> int:
    """The index of the bucket holding ``seconds`` (a whole, non-negative number)."""
    return bisect.bisect_right(BOUNDS, seconds) - 1


def histogram(values: Iterable[int]) -> list[int]:
    counts = [0] * BUCKETS
    for value in values:
        counts[bucket_of(value)] += 1
    return counts


def merge(histograms: Iterable[Sequence[int]]) -> list[int]:
    total = [0] * BUCKETS
    for counts in histograms:
        for i, n in enumerate(counts):
            total[i] += n
    return total


def percentile(buckets: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (0 <= q <= 1) estimated from bucket counts by linear interpolation
    inside the bucket that holds it; None without values.

    Error bound: the exact nearest-rank quantile (the ``ceil(q * n)``-th smallest value, the first
    for q = 0) lies in the bucket this picks, because the cumulative counts are whole numbers
    (``c < q*n <= c'`` exactly when ``c < ceil(q*n) <= c'``); the estimate lies in the same
    bucket (its top included), so the two differ by at most that bucket's width. In the open-ended last bucket
    the estimate is its lower bound (30 days): the exact value is at least that.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"q must be between 0 and 1, not {q}")
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    before = 0
    for i, count in enumerate(buckets):
        # The first non-empty bucket whose cumulative count reaches the rank (rank 0: the first
        # non-empty bucket, whose lower bound is the estimate).
        if count and before + count >= rank:
            low = BOUNDS[i]
            if i + 1 == BUCKETS:
                return float(low)
            fraction = max(0.0, (rank - before) / count)
            return low + fraction * (BOUNDS[i + 1] - low)
        before += count
    raise AssertionError("unreachable: the last non-empty bucket reaches every rank")


def median_and_p90(buckets: Sequence[int]) -> tuple[float | None, float | None]:
    """What the performance page shows beside the mean (DOMAIN.md: times are heavily skewed)."""
    return percentile(buckets, 0.5), percentile(buckets, 0.9)


def exact_nearest_rank(values: Sequence[int], q: float) -> int:
    """The nearest-rank quantile of the values themselves, what ``percentile`` estimates (used by
    tests and benchmarks to check the estimate)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]
