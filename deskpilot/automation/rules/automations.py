"""Time-based automations: the periodic job's work (``rule_tasks.run_automations``).

An automation acts on tickets in its ``status`` whose clock (time in the status, since the last
update, or since creation) has run ``hours``, in calendar or business hours, and that meet its
conditions. It acts at most once per qualifying period: the act and an ``AutomationRun`` row
(automation, ticket, the instant the period began) commit together, so a rerun, a second worker
or a restart mid-run never acts twice, and a worker killed mid-batch loses nothing (the ticket
it was on is simply still due). A ticket that leaves the status and comes back starts a new
period.

Candidates are found with indexed queries (tickets by status, then by ``updated_at`` or
``created_at``, or the latest status event through the (ticket, created_at) event index), at
least ``hours`` of calendar time old (business hours are never fewer than calendar hours), in
keyset batches; rows acted on already are left out in the same query.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from deskpilot.automation.models import Automation, AutomationClock, AutomationRun
from deskpilot.automation.rules import actions as rule_actions
from deskpilot.automation.rules.conditions import Predicate, Snapshot, compile_conditions
from deskpilot.automation.rules.engine import calendar_for, ticket_fields
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Ticket, TicketEvent, TicketTag

logger = logging.getLogger(__name__)

BATCH = 200


def _period_start() -> Subquery:
    """When the ticket entered its current status: its latest status change, or its creation."""
    latest = (
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), field__in=["status", "created"])
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    return Subquery(latest)


def candidates(automation: Automation, now: datetime.datetime) -> QuerySet[Ticket]:
    """Tickets whose clock has run at least ``hours`` of calendar time and that this automation
    has not acted on for this period, with ``period_start`` annotated; ordered by id."""
    cutoff = now - datetime.timedelta(hours=automation.hours)
    qs = Ticket.objects.filter(status=automation.status)
    if automation.clock == AutomationClock.UPDATED:
        qs = qs.filter(updated_at__lte=cutoff)
        start_field = "updated_at"
    elif automation.clock == AutomationClock.CREATED:
        qs = qs.filter(created_at__lte=cutoff)
        start_field = "created_at"
    else:
        # A ticket entered its status after it was created: created_at (indexed) narrows the
        # scan before the per-ticket lookup of its latest status change.
        qs = qs.filter(created_at__lte=cutoff).annotate(since=_period_start()).filter(since__lte=cutoff)
        start_field = "since"
    done = AutomationRun.objects.filter(
        automation=automation, ticket_id=OuterRef("pk"), period_start=OuterRef(start_field)
    )
    return qs.exclude(Exists(done)).order_by("pk")


def _start_of(ticket: Ticket, automation: Automation) -> datetime.datetime:
    if automation.clock == AutomationClock.UPDATED:
        return ticket.updated_at
    if automation.clock == AutomationClock.CREATED:
        return ticket.created_at
    return ticket.since  # type: ignore[attr-defined]


@dataclass
class _Compiled:
    automation: Automation
    matches: Predicate


class _Schedules:
    """One schedule per calendar for a run (business hours)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[int | None, int | None], Any] = {}

    def elapsed_seconds(self, ticket: Ticket, start: datetime.datetime, now: datetime.datetime) -> float:
        from deskpilot.policies.business_time import business_seconds
        from deskpilot.policies.calendars import schedule_for

        key = (ticket.team_id, ticket.organization_id)
        if key not in self._by_key:
            calendar = calendar_for(*key)
            self._by_key[key] = schedule_for(calendar) if calendar is not None else None
        schedule = self._by_key[key]
        if schedule is None:
            return (now - start).total_seconds()
        return business_seconds(schedule, start, now)


def snapshot(ticket: Ticket, in_business_hours: bool = True) -> Snapshot:
    return Snapshot(
        fields=ticket_fields(ticket),
        event="updated",
        via="system",
        tags=lambda: list(TicketTag.objects.filter(ticket_id=ticket.pk).values_list("tag__name", flat=True)),
        in_business_hours=in_business_hours,
    )


def due(
    automation: Automation, now: datetime.datetime, *, limit: int | None = None
) -> Iterator[tuple[Ticket, datetime.datetime]]:
    """(ticket, period start) for each ticket the automation would act on now, in id order,
    batched; business hours and conditions checked."""
    matches = compile_conditions(automation.conditions)
    schedules = _Schedules()
    last = 0
    found = 0
    while True:
        batch = list(candidates(automation, now).filter(pk__gt=last)[:BATCH])
        for ticket in batch:
            start = _start_of(ticket, automation)
            if automation.business_hours and schedules.elapsed_seconds(ticket, start, now) < automation.hours * 3600:
                continue
            if not matches(snapshot(ticket)):
                continue
            yield ticket, start
            found += 1
            if limit is not None and found >= limit:
                return
        if len(batch) < BATCH:
            return
        last = batch[-1].pk


def act(automation: Automation, ticket_id: int, period_start: datetime.datetime, now: datetime.datetime) -> bool:
    """Act on one ticket for one period, once: re-checked under the ticket's lock, recorded with
    the change in one transaction. Returns whether it acted."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, status=automation.status).first()
        if ticket is None:
            return False
        if automation.clock == AutomationClock.STATUS:
            current = (
                TicketEvent.objects.filter(ticket_id=ticket_id, field__in=["status", "created"])
                .order_by("-created_at", "-id")
                .values_list("created_at", flat=True)
                .first()
            )
        else:
            current = ticket.updated_at if automation.clock == AutomationClock.UPDATED else ticket.created_at
        if current != period_start:
            return False  # changed since it was found: it is not due any more
        try:
            with transaction.atomic():
                AutomationRun.objects.create(
                    automation=automation, ticket=ticket, period_start=period_start, acted_at=now
                )
        except IntegrityError:
            return False  # acted already (another worker, an earlier run)
        try:
            with transaction.atomic():
                rule_actions.apply(ticket, automation.actions, cause=f"automation:{automation.pk}")
        except InvalidInput as error:
            # Recorded as done all the same: retrying every few minutes would fail the same way.
            logger.warning("automation %s could not act on ticket %s: %s", automation.pk, ticket_id, error)
            return False
    return True


def run_automations(now: datetime.datetime | None = None) -> int:
    """Run every active automation once; returns how many (automation, ticket) acts happened.
    Idempotent: a second run right after acts on nothing."""
    now = now or timezone.now()
    acted = 0
    for automation in Automation.objects.filter(active=True).order_by("position", "id"):
        try:
            # Listed before acting: an act changes the ticket, not which tickets were due.
            for ticket_id, start in [(t.pk, start) for t, start in due(automation, now)]:
                if act(automation, ticket_id, start, now):
                    acted += 1
        except Exception:
            logger.exception("automation %s failed; the others still run", automation.pk)
    return acted
