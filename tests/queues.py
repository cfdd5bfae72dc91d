"""Real job queues for the job tests: a SqliteHuey, or a RedisHuey on DESKPILOT_TEST_REDIS_URL, of
the test's own (runs may share Redis), and a consumer's pass over it at a chosen moment. The tests'
settings run jobs inline, so a test registers the jobs it needs on its queue under their real names
and points the application's code at them."""

from __future__ import annotations

import datetime
import os
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import time_machine
from huey import RedisHuey, SqliteHuey
from huey.api import Huey, PeriodicTask

BACKENDS = [
    "sqlite",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not os.environ.get("DESKPILOT_TEST_REDIS_URL"), reason="DESKPILOT_TEST_REDIS_URL is not set"
        ),
    ),
]


def new_queue(backend: str, tmp_path: Path, purpose: str) -> Huey:
    name = f"deskpilot-{purpose}-test-{uuid.uuid4().hex}"
    if backend == "redis":
        # Not blocking: an empty queue answers at once instead of waiting for a job.
        return RedisHuey(name, url=os.environ["DESKPILOT_TEST_REDIS_URL"], utc=True, blocking=False)
    return SqliteHuey(name, filename=str(tmp_path / "jobs.sqlite3"), utc=True)


def periodic_like(huey: Huey, job: Any) -> Any:
    """``job`` (a periodic task of the application) registered on ``huey`` with its name and
    schedule."""
    return huey.periodic_task(job.s().validate_datetime, name=job.name)(job.call_local)


def consumer_pass(huey: Huey, now: datetime.datetime, *, minute: bool = False) -> list[Any]:
    """One pass of a consumer at ``now``: the scheduler moves due timers to the queue and, at the
    start of a ``minute``, enqueues the periodic jobs whose minute it is; the worker runs everything
    queued. Returns the results of the jobs that ran (a timer not due yet goes back to the
    schedule)."""
    results = []
    with time_machine.travel(now, tick=False):
        naive = now.astimezone(UTC).replace(tzinfo=None)
        for task in huey.read_schedule(naive):
            huey.enqueue(task)
        for task in huey.read_periodic(naive) if minute else ():
            huey.enqueue(task)
        while (task := huey.dequeue()) is not None:
            if huey.ready_to_run(task):
                results.append(huey.execute(task))
            else:
                huey.execute(task)  # back to the schedule until its time
    return results


def runs_every_minute(job: Any) -> bool:
    """Whether a periodic job of the application is due at every minute of a few sample days."""
    if not issubclass(job.task_class, PeriodicTask):
        return False
    task = job.s()
    moments = [datetime.datetime(2026, 3, d, h, m) for d in (1, 2) for h in (0, 9, 23) for m in range(60)]
    return all(task.validate_datetime(moment) for moment in moments)
