"""Claiming queued deliveries (mail, webhooks) so that exactly one worker attempts each.

A delivery row has a status (queued until sent, delivered or failed) and ``next_attempt_at`` (when
it is due). A worker claims a row by moving ``next_attempt_at`` a lease into the future with a
conditional update: only one update can match, and a worker that dies mid-attempt leaves a row
that is due again once the lease has passed. No transaction stays open while the remote server is
talked to (on SQLite that would block every writer).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q

LEASE = datetime.timedelta(minutes=10)


def claim(model: type[models.Model], pk: int, *, queued: str, now: datetime.datetime) -> bool:
    """Claim one queued row that is due (or has no time set); False when it is not queued, not
    due, or another worker has it."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    manager: Any = model._default_manager
    return bool(manager.filter(due, pk=pk, status=queued).update(next_attempt_at=now + LEASE))


def claim_due(model: type[models.Model], *, queued: str, now: datetime.datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` queued rows whose time has come, oldest due first, until ``now`` plus
    the lease (renew each with ``renew`` before attempting it). On PostgreSQL, rows another
    worker is claiming are skipped (SKIP LOCKED) rather than waited for."""
    manager: Any = model._default_manager
    due = manager.filter(status=queued, next_attempt_at__lte=now).order_by("next_attempt_at", "id")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        if ids:
            manager.filter(pk__in=ids).update(next_attempt_at=now + LEASE)
    return ids


def renew(
    model: type[models.Model], pk: int, *, queued: str, held_until: datetime.datetime, now: datetime.datetime
) -> bool:
    """Renew the claim on one row of a batch this worker claimed (``claim_due`` set it to
    ``held_until``), just before attempting it: a batch attempted one by one can outlast its lease,
    and a row another worker has claimed since is left to that worker (False)."""
    manager: Any = model._default_manager
    return bool(manager.filter(pk=pk, status=queued, next_attempt_at=held_until).update(next_attempt_at=now + LEASE))
