"""Rule jobs: time-based automations, every five minutes.

Every worker's scheduler enqueues it; that is harmless: each act is re-checked under the
ticket's lock and recorded once per qualifying period (rules.automations), so overlapping runs
act once between them.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from deskpilot.automation.rules.automations import run_automations

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"), name="automation.run_automations")
def automations() -> int:
    """Run the active time-based automations; returns how many times they acted."""
    acted = run_automations()
    if acted:
        logger.info("automations: acted %d time(s)", acted)
    return acted
