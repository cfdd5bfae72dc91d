"""Rebuilding every ticket's metrics record from its events (``deskpilot metrics-rebuild``): after an
import, on demo data (written without the live path), or when a definition changed.

The same pieces as the live path (``analytics.ticket_metrics``): ``metrics.compute`` per ticket
and the one upsert statement (``write_rows``), over streamed rows instead of one ticket at a time.
Tickets and their events are read chunk by chunk in ticket order with a raw cursor, policies and
calendars are resolved from assignments loaded once (``calendar_choice.load_all``), and
each chunk is written in one transaction; the daily rollups are rebuilt from all the records at
the end (``rollups.rebuild``). Resumable (``from_id``), and shared between forked worker
processes (``workers``), like the SLA rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from deskpilot.analytics import rollups
from deskpilot.analytics.metrics import BARE_FIELDS, METRIC_FIELDS, calendar_history, compute
from deskpilot.analytics.ticket_metrics import COLUMNS, row, schedule_of, write_rows
from deskpilot.core import parallel
from deskpilot.policies import sla
from deskpilot.policies.calendar_choice import load_all
from deskpilot.tickets.event_rows import EventRow, read_events
from deskpilot.tickets.models import Ticket

CHUNK = 5000


@dataclass(slots=True)
class _Ticket:
    """The ticket fields the record copies and the calendar choice reads."""

    pk: int
    created_at: Any  # SQLite: the stored text, passed back unchanged; PostgreSQL: a datetime
    status: str
    channel: str
    priority: str
    type: str
    team_id: int | None
    assignee_id: int | None
    organization_id: int | None
    sla_policy_id: int | None


@dataclass
class Totals:
    tickets: int = 0
    last_id: int = 0
    rollup_rows: int = 0


def _tickets(after: int, last: int | None, limit: int) -> list[_Ticket]:
    """The next ``limit`` tickets with ids in (after, last], read with a raw cursor (model
    instances cost more than the metrics of a ticket without events)."""
    table = Ticket._meta.db_table
    created = "created_at || ''" if connection.vendor == "sqlite" else "created_at"
    bound = "" if last is None else "AND id <= %s "
    sql = (
        f"SELECT id, {created}, status, channel, priority, type, team_id, assignee_id, organization_id, "
        f"sla_policy_id FROM {table} WHERE id > %s {bound}ORDER BY id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [after, *([] if last is None else [last]), limit])
        return [_Ticket(*values) for values in cursor.fetchall()]


def rebuild_all(
    *,
    from_id: int = 0,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
) -> Totals:
    """Recompute the metrics record of every ticket with an id above ``from_id``; ``progress``
    hears how many tickets each chunk did. With ``workers`` above 1 (and a database other processes
    can open) the id range is split between that many forked processes."""
    spans = parallel.id_spans(Ticket.objects.all(), from_id, workers) if workers > 1 and parallel.can_fork() else []
    if spans:
        # Every row is replaced, so running again after a failed worker is safe.
        parts = parallel.in_workers(
            lambda after, last, done: rebuild_range(after, last, done, chunk), spans, progress, "metrics rebuild"
        )
        totals = Totals(tickets=sum(p.tickets for p in parts), last_id=spans[-1][1])
    else:
        totals = rebuild_range(from_id, None, progress, chunk)
    # The chunks replace records without the live path's rollup deltas: the rollups again, from
    # all the records (grouped SQL: about 1 s for 20,000 tickets on SQLite).
    totals.rollup_rows = rollups.rebuild().rows
    return totals


def rebuild_range(
    after: int, last: int | None, progress: Callable[[int], None] | None, chunk: int, *, keep_rollups: bool = False
) -> Totals:
    """Tickets with ids in (after, last] (no upper bound when ``last`` is None), chunk by chunk.
    With ``keep_rollups`` the daily rollups move by each rewritten record's difference, as on the
    live path (for a rewrite of some tickets; a whole rebuild rebuilds the rollups after)."""
    assignments = load_all()
    sla.active_policies()
    policies: dict[int, sla.CompiledPolicy | None] = {}
    totals = Totals(last_id=after)
    while True:
        tickets = _tickets(totals.last_id, last, chunk)
        if not tickets:
            return totals
        events: dict[int, list[EventRow]] = {}
        for ticket_id, event in read_events(tickets[0].pk, tickets[-1].pk, METRIC_FIELDS, without_values=BARE_FIELDS):
            events.setdefault(ticket_id, []).append(event)
        rows = []
        for ticket in tickets:
            history = events.get(ticket.pk, [])
            policy_id = ticket.sla_policy_id
            if policy_id is not None and policy_id not in policies:
                policies[policy_id] = sla.policy_by_id(policy_id)
            policy = policies.get(policy_id) if policy_id is not None else None
            history_keys = calendar_history(history, policy.id if policy is not None else None)
            calendars = [(at, schedule_of(assignments.choose(key))) for at, key in history_keys]
            figures = compute(history, calendars, policy.clock if policy is not None else None)
            rows.append(row(ticket, policy.id if policy is not None else None, figures))
        with transaction.atomic():
            deltas: dict[rollups.Key, list[int]] = {}
            if keep_rollups:
                stored = rollups.read_records(tickets[0].pk, tickets[-1].pk)
                for values in rows:
                    new = dict(zip(COLUMNS, values, strict=True))
                    for key, vector in rollups.difference(stored.get(new["ticket_id"]), new).items():
                        total = deltas.setdefault(key, [0] * len(vector))
                        for i, n in enumerate(vector):
                            total[i] += n
            write_rows(rows)
            rollups.add({key: vector for key, vector in deltas.items() if any(vector)})
        totals.tickets += len(tickets)
        totals.last_id = tickets[-1].pk
        if progress is not None:
            progress(len(tickets))


def on_clocks_rebuilt(sender: object, *, first: int, last: int, **kwargs: object) -> None:
    """The SLA recompute wrote findings or SLA fields for tickets first..last in bulk: their
    records again (the metrics count breaches and keep each target's outcome), the rollups moved
    by their differences (a whole rollup rebuild per chunk would scan every record each time)."""
    rebuild_range(first - 1, last, None, CHUNK, keep_rollups=True)
