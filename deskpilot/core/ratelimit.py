"""Fixed-window counters in the shared cache (the database cache, or Redis when configured), so
every web process counts against the same limit."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def count(scope: str, subject: str) -> int:
    """How many hits ``subject`` has in the current window of ``scope``."""
    return int(cache.get(_key(scope, subject), 0))


def hit(scope: str, subject: str, window_seconds: int) -> int:
    """Record one hit and return the new count within the window."""
    key = _key(scope, subject)
    if cache.add(key, 1, timeout=window_seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        return 1


def reset(scope: str, subject: str) -> None:
    cache.delete(_key(scope, subject))
