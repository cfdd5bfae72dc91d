"""Ticket jobs and timers, run by the job worker (``deskpilot worker``).

Every task here is idempotent: the worker may run it twice (a retry, an overlapping run on a
second worker, a restart mid-task) without changing the outcome.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from deskpilot.tickets.actions import close_solved_tickets

logger = logging.getLogger(__name__)


# Every 15 minutes, so a solved ticket closes at most a quarter of an hour after its
# AUTO_CLOSE_DAYS are up. Every worker's scheduler enqueues it; that is harmless, because the
# action re-checks each ticket under its row lock and closes it only once.
@db_periodic_task(crontab(minute="*/15"), name="tickets.auto_close")
def auto_close() -> int:
    """Close tickets solved more than AUTO_CLOSE_DAYS ago; returns how many were closed."""
    closed = close_solved_tickets()
    if closed:
        logger.info("auto-close: closed %d solved ticket(s)", closed)
    return closed
