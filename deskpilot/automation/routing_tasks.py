"""Routing jobs: assigning queued tickets when an agent becomes available, and a sweep every
minute, so a lost job (a worker killed, Redis restarted) cannot strand a ticket in the queue.

Both are idempotent: each ticket is assigned in its own transaction under its lock, and a ticket
already assigned is left alone, so running them twice or in two workers at once changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.automation import routing_service


@db_task(name="routing.assign_queued")
def assign_queued(team_ids: Iterable[int] | None = None) -> int:
    """Assign the queued tickets of these teams (every routed team when None)."""
    return routing_service.assign_queued(None if team_ids is None else list(team_ids))


@db_periodic_task(crontab(minute="*"), name="routing.sweep_queue")
def sweep_queue() -> int:
    return routing_service.assign_queued()
