"""Recomputing the SLA clocks of many tickets at once (``deskpilot sla-recompute``): after an import,
on demo data, or to rebuild every ticket's SLA state from its events.

The same pieces as the live path (``policies.sla``: compiled policies, matching, the pure clock,
``findings`` and ``summarize``) over streamed rows instead of one ticket at a time: the tickets and
their clock events are each read in one pass in ticket order and merged, calendars are resolved from
maps loaded once, and the tickets' SLA fields are written in batches. Warnings and breaches not yet
recorded are written as ``sla`` events at their moment (never before the policy existed in its
current form), like the live path does, but nothing is escalated or notified: this re-derives
history, it does not re-live it. Resumable: it walks ticket ids upwards (``from_id``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from deskpilot.core import parallel
from deskpilot.policies import calendar_choice, clock, sla
from deskpilot.policies.business_time import Schedule
from deskpilot.policies.calendars import schedule_for
from deskpilot.policies.facts import facts_from_events
from deskpilot.policies.signals import clocks_rebuilt
from deskpilot.tickets.event_rows import EventRow, read_events
from deskpilot.tickets.models import Ticket, TicketEvent, Via

CHUNK = 5000


@dataclass(slots=True)
class _Ticket:
    """The columns of a ticket the rebuild reads (a model instance per row costs more than the
    clock itself)."""

    pk: int
    priority: str
    team_id: int | None
    organization_id: int | None
    channel: str
    type: str
    requester_id: int
    sla_policy_id: int | None
    sla_next_breach_at: datetime.datetime | None
    sla_wake_at: datetime.datetime | None


_TICKET_COLUMNS = (
    "id", "priority", "team_id", "organization_id", "channel", "type", "requester_id",
    "sla_policy_id", "sla_next_breach_at", "sla_wake_at",
)  # fmt: skip


@dataclass
class Totals:
    tickets: int = 0
    with_policy: int = 0
    findings: int = 0
    last_id: int = 0


def _schedules() -> Callable[[sla.CompiledPolicy, _Ticket, int | None], Schedule]:
    """The business-hours schedule a ticket's clock runs on (``sla.calendar_for``, falling back to
    always open) without a query per ticket: every assignment loaded once, each calendar's
    schedule compiled once."""
    assignments = calendar_choice.load_all()
    compiled: dict[int, Schedule] = {}

    def find(policy: sla.CompiledPolicy, ticket: _Ticket, pinned: int | None) -> Schedule:
        calendar = assignments.choose((policy.id, pinned, ticket.team_id, ticket.organization_id))
        if calendar is None:
            return sla.ALWAYS_OPEN
        schedule = compiled.get(calendar.pk)
        if schedule is None:
            schedule = compiled[calendar.pk] = schedule_for(calendar)
        return schedule

    return find


def recompute_all(
    *,
    from_id: int = 0,
    now: datetime.datetime | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
    announce: bool = True,
) -> Totals:
    """Recompute the SLA state of every ticket with an id above ``from_id``; ``progress`` hears how
    many tickets each chunk did. With ``workers`` above 1 the id range is split between that many
    processes (``core.parallel``). Chunks where something was written are announced
    (``signals.clocks_rebuilt``) unless ``announce`` is off (a caller that rebuilds everything that
    depends on them itself, like the demo generator)."""
    now = now or timezone.now()
    if workers > 1 and parallel.can_fork():
        # Tickets are independent of each other, so the spans never touch the same rows (SQLite
        # serialises the writes; each chunk's transaction is short). Running again is safe:
        # findings already recorded are not recorded twice.
        spans = parallel.id_spans(Ticket.objects.all(), from_id, workers)
        if not spans:
            return Totals(last_id=from_id)
        parts = parallel.in_workers(
            lambda after, last, done: _recompute_range(after, last, now, done, chunk, announce),
            spans,
            progress,
            "SLA recompute",
        )
        return Totals(
            tickets=sum(p.tickets for p in parts),
            with_policy=sum(p.with_policy for p in parts),
            findings=sum(p.findings for p in parts),
            last_id=spans[-1][1],
        )
    return _recompute_range(from_id, None, now, progress, chunk, announce)


def _recompute_range(
    after: int,
    last: int | None,
    now: datetime.datetime,
    progress: Callable[[int], None] | None,
    chunk: int,
    announce: bool,
) -> Totals:
    """Tickets with ids in (after, last] (no upper bound when ``last`` is None), chunk by chunk."""
    policies = sla.active_policies()
    schedule_of = _schedules()
    needs_tiers = any(p.tiers for p in policies)
    needs_tags = any(p.tags for p in policies)
    totals = Totals(last_id=after)
    while True:
        query = Ticket.objects.filter(pk__gt=totals.last_id)
        if last is not None:
            query = query.filter(pk__lte=last)
        tickets = [_Ticket(*row) for row in query.order_by("pk").values_list(*_TICKET_COLUMNS)[:chunk]]
        if not tickets:
            return totals
        _chunk(
            tickets,
            policies,
            schedule_of,
            now,
            totals,
            needs_tiers=needs_tiers,
            needs_tags=needs_tags,
            announce=announce,
        )
        totals.last_id = tickets[-1].pk
        if progress is not None:
            progress(len(tickets))


def _chunk(
    tickets: list[_Ticket],
    policies: tuple[sla.CompiledPolicy, ...],
    schedule_of: Callable[[sla.CompiledPolicy, _Ticket, int | None], Schedule],
    now: datetime.datetime,
    totals: Totals,
    *,
    needs_tiers: bool,
    needs_tags: bool,
    announce: bool,
) -> None:
    rows: dict[int, list[EventRow]] = {}
    for ticket_id, row in read_events(tickets[0].pk, tickets[-1].pk, sla._READ_FIELDS):
        rows.setdefault(ticket_id, []).append(row)
    tiers: dict[int, str] = {}
    if needs_tiers:
        from deskpilot.customers.models import Customer

        customers = Customer.objects.filter(pk__in={t.requester_id for t in tickets}).select_related("organization")
        tiers = {c.pk: c.effective_tier for c in customers}
    tags: dict[int, set[str]] = {}
    if needs_tags:
        from deskpilot.tickets.models import TicketTag

        pairs = TicketTag.objects.filter(ticket_id__in=[t.pk for t in tickets]).values_list("ticket_id", "tag__name")
        for ticket_id, name in pairs:
            tags.setdefault(ticket_id, set()).add(name)

    updates: list[tuple[int | None, datetime.datetime | None, datetime.datetime | None, int]] = []
    new_events: list[TicketEvent] = []
    for ticket in tickets:
        events = rows.get(ticket.pk, [])
        recorded: set[tuple[str, sla.Key]] = set()
        pin: dict[str, Any] = {}
        since: datetime.datetime | None = None
        for row in events:
            value = row.new if isinstance(row.new, dict) else {}
            if row.field == "sla":
                recorded.add(
                    (
                        value.get("kind", ""),
                        sla._key(value.get("metric", ""), value.get("start", ""), value.get("team")),
                    )
                )
            elif row.field in ("sla_pin", "sla_policy"):
                since = row.created_at
                if row.field == "sla_pin":
                    pin = value
        if pin.get("policy"):
            policy = sla.policy_by_id(pin["policy"])
        else:
            ticket_tags = frozenset(tags.get(ticket.pk, ())) if needs_tags else None
            tier = tiers.get(ticket.requester_id) if needs_tiers else None
            policy = next((p for p in policies if p.matches(ticket, tier, ticket_tags)), None)
        instances: tuple[clock.TargetInstance, ...] = ()
        end = max(now, events[-1].created_at) if events else now
        if policy is not None:
            totals.with_policy += 1
            facts = facts_from_events(events)  # type: ignore[arg-type]
            schedule = schedule_of(policy, ticket, pin.get("calendar")) if policy.business else None
            if facts and facts[0].kind == "created":
                instances = tuple(clock.evaluate(facts, policy.clock, schedule, end))
            found = sla.findings(instances, policy, recorded, max(policy.updated_at, since or policy.updated_at), end)
            for name, value, at in found:
                new_events.append(
                    TicketEvent(ticket_id=ticket.pk, field=name, new=value, via=Via.SYSTEM, cause="sla", created_at=at)
                )
                recorded.add((value["kind"], sla._key(value["metric"], value["start"], value["team"])))
        next_breach, wake = sla.summarize(instances, end, recorded)
        policy_id = policy.id if policy is not None else None
        if (ticket.sla_policy_id, ticket.sla_next_breach_at, ticket.sla_wake_at) != (policy_id, next_breach, wake):
            updates.append((policy_id, next_breach, wake, ticket.pk))
        totals.tickets += 1
    totals.findings += len(new_events)
    with transaction.atomic():
        if new_events:
            TicketEvent.objects.bulk_create(new_events, batch_size=1000)
        if updates:
            _write(updates)
    if announce and (new_events or updates):
        clocks_rebuilt.send(sender=__name__, first=tickets[0].pk, last=tickets[-1].pk)


def _write(updates: list[tuple[int | None, datetime.datetime | None, datetime.datetime | None, int]]) -> None:
    table = Ticket._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    params = [(p, adapt(b), adapt(w), pk) for p, b, w, pk in updates]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET sla_policy_id = %s, sla_next_breach_at = %s, sla_wake_at = %s WHERE id = %s",
            params,
        )
