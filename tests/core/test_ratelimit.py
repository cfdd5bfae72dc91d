"""Fixed-window counters in the shared cache (core.ratelimit), on the database cache (the
default) and on an in-memory cache."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from deskpilot.core import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "memory"])
def cache_backend(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    if request.param == "memory":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # The database cache is rolled back with each test; memory is per process.
    cache.clear()
    yield request.param
    cache.clear()


def test_counts_hits_per_scope_and_subject(cache_backend: str) -> None:
    assert ratelimit.count("signin", "a") == 0
    assert [ratelimit.hit("signin", "a", 60) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count("signin", "a") == 3
    assert ratelimit.count("signin", "b") == 0
    assert ratelimit.count("other", "a") == 0
    ratelimit.reset("signin", "a")
    assert ratelimit.count("signin", "a") == 0
    assert ratelimit.hit("signin", "a", 60) == 1


@pytest.mark.parametrize("window", [60, 900, 3600])
def test_the_window_is_fixed_from_the_first_hit(cache_backend: str, window: int) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ratelimit.hit("signin", "a", window)
    # Hits late in the window neither shorten nor extend it.
    with time_machine.travel(start + datetime.timedelta(seconds=window - 10), tick=False):
        assert ratelimit.hit("signin", "a", window) == 2
        assert ratelimit.count("signin", "a") == 2
    with time_machine.travel(start + datetime.timedelta(seconds=window + 1), tick=False):
        assert ratelimit.count("signin", "a") == 0
        assert ratelimit.hit("signin", "a", window) == 1


def test_subjects_are_hashed_in_keys(cache_backend: str) -> None:
    # Any text is a valid subject, including what a cache key may not contain.
    subject = "email:" + "ä " * 300 + "\n"
    assert ratelimit.hit("signin", subject, 60) == 1
    assert ratelimit.count("signin", subject) == 1
