"""SLA jobs: a timer per ticket whose warning or breach is near, and the sweep that makes sure none
is missed (see ``policies.sla``). Both are idempotent: a ticket is recomputed under its lock and
only when its wake-up has come."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.policies import config_version, sla

logger = logging.getLogger(__name__)


@db_task(name="policies.sla_timer")
def sla_timer(ticket_id: int) -> bool:
    return sla.wake(ticket_id)


@db_periodic_task(crontab(minute="*"), name="policies.sla_sweep")
def sla_sweep() -> int:
    # The configuration's change log kept to its newest row (its count is read on every change).
    config_version.compact()
    done = sla.sweep()
    if done:
        logger.info("SLA sweep: %d ticket(s) recomputed", done)
    if sla.claim_owed_recompute():
        # A recompute after a policy change is owed and no job is doing it: its job was lost.
        logger.warning("SLA sweep: a recompute owed after a policy change had no job; queued again")
        recompute_unsolved()
    return done


@db_task(name="policies.recompute_unsolved")
def recompute_unsolved() -> int:
    """After a policy or calendar changed: every unsolved ticket's clocks (and policy) again, and
    what was owed is settled."""
    done = sla.recompute_owed()
    logger.info("SLA clocks recomputed for %d unsolved ticket(s)", done)
    return done
