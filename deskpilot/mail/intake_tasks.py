"""Inbound mail jobs, run by the job worker (``deskpilot worker``).

``mail.poll_mailboxes`` reads every IMAP mailbox once a minute. It is idempotent: two workers
polling the same mailbox at once fetch the same unseen messages, and the intake's duplicate rule
(same Message-ID, or same bytes) makes the second copy create nothing.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from deskpilot.mail import imap

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"), name="mail.poll_mailboxes")
def poll_mailboxes() -> int:
    """Poll every active IMAP mailbox once; returns how many messages were stored."""
    stored = 0
    for result in imap.poll_all():
        stored += result.stored
        if result.error:
            logger.warning("mailbox %s: %s", result.mailbox, result.error)
    return stored
