"""Survey jobs: every minute, the invitations whose time has come are sent (as OutboundMail,
which the mail jobs deliver with retries) or skipped with the reason; a ticket solved is handed to
the worker to schedule its surveys."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.feedback import actions


@db_periodic_task(crontab(minute="*"), name="feedback.send_surveys")
def send_surveys() -> int:
    return actions.send_due()


@db_task(name="feedback.schedule_surveys")
def schedule_surveys(ticket_id: int) -> int:
    return len(actions.schedule_after_solve(ticket_id))
