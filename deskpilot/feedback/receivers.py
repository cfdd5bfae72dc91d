"""What the feedback app hears of ticket changes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger(__name__)


def on_ticket_changed(sender: Any, *, ticket_id: int, fields: Sequence[str], **kwargs: Any) -> None:
    """Receiver of ``tickets.signals.ticket_changed`` (after commit): a status change may be a
    solve, whose surveys the job worker schedules. A queue that is down is logged; the change
    itself stands."""
    if "status" not in fields:
        return
    from deskpilot.feedback.tasks import schedule_surveys

    try:
        schedule_surveys(ticket_id)
    except Exception:
        logger.exception("could not enqueue the survey scheduling of ticket %s", ticket_id)
