"""Fixed-window counters in the shared cache (the database cache, or Redis when configured), so
every web process counts against the same limit."""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import cache


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def count(scope: str, subject: str) -> int:
    """How many hits ``subject`` has in the current window of ``scope``."""
    return int(cache.get(_key(scope, subject), 0))


def _start(key: str, window_seconds: int) -> None:
    cache.set(key + ":ends", time.time() + window_seconds, timeout=window_seconds)


def hit(scope: str, subject: str, window_seconds: int) -> int:
    """Record one hit and return the new count within the window."""
    key = _key(scope, subject)
    if cache.add(key, 1, timeout=window_seconds):
        _start(key, window_seconds)
        return 1
    try:
        count = int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        _start(key, window_seconds)
        return 1
    # Fix: Django's generic incr (used by the database cache, the default) is get + set with
    # the cache's default timeout (300 s), so every hit moved the expiry to 5 minutes from
    # now, whatever the window. Put the counter's expiry back to the end of its window.
    ends = cache.get(key + ":ends")
    remaining = (ends - time.time()) if isinstance(ends, int | float) else window_seconds
    cache.touch(key, max(1, math.ceil(remaining)))
    return count


def reset(scope: str, subject: str) -> None:
    key = _key(scope, subject)
    cache.delete_many([key, key + ":ends"])
