"""Keeping each ticket's metrics record current, inside the transaction of every change.

``on_events_recorded`` (connected to ``tickets.signals.events_recorded`` after the SLA clock and
the automation, so it sees their effects) recomputes the ticket's row from all its events with
``analytics.metrics.compute`` for a change the metrics read, none for others (tags, followers,
CCs, subject): the events read, the record's upsert (reading back the stored record it replaces),
and the difference added to the daily rollups (only when there is one: ``analytics.rollups``).
The SLA configuration stamp (``policies.config_version``) is read once per change, by whichever
receiver asks first (usually the SLA clock). Business time counts on the calendars the ticket had
over its history, each chosen as the SLA clock chooses one (``policies.calendar_choice``, kept
per process).

Rows are written by one upsert statement shared with the rebuild (``write_rows``), so both paths
store exactly the same values.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from typing import Any, Protocol

from django.db import connection

from deskpilot.analytics import rollups
from deskpilot.analytics.metrics import (
    BARE_FIELDS,
    METRIC_FIELDS,
    TIME_METRICS,
    Figures,
    SlaOutcome,
    calendar_history,
    compute,
)
from deskpilot.analytics.models import TicketMetrics
from deskpilot.core.db import prepared_cursor
from deskpilot.policies import calendar_choice, sla
from deskpilot.policies.business_time import Schedule
from deskpilot.policies.calendars import schedule_for
from deskpilot.policies.models import BusinessCalendar
from deskpilot.tickets.event_rows import EventRow, read_events
from deskpilot.tickets.models import Ticket, TicketEvent

DIMENSIONS = (
    "ticket_id",
    "created_at",
    "status",
    "channel",
    "priority",
    "type",
    "team_id",
    "assignee_id",
    "organization_id",
    "sla_policy_id",
)
FIGURES = (
    *(f"{name}{unit}" for name in TIME_METRICS for unit in ("", "_business")),
    "first_solved_at",
    "solved_at",
    "merged_into",
    "replies",
    "customer_messages",
    "reopens",
    "assignee_stations",
    "group_stations",
    "escalations",
    "one_touch",
    "first_contact_resolution",
    "sla_outcomes",
    "sla_met",
    "sla_breached",
)
# Every column the metrics own; csat_good belongs to the feedback app and is never overwritten.
COLUMNS = DIMENSIONS + FIGURES


def schedule_of(calendar: BusinessCalendar | None) -> Schedule:
    return schedule_for(calendar) if calendar is not None else sla.ALWAYS_OPEN


class TicketDimensions(Protocol):
    """The ticket fields the record copies (a Ticket, or a row the rebuild read)."""

    pk: Any
    created_at: Any
    status: str
    channel: str
    priority: str
    type: str
    team_id: int | None
    assignee_id: int | None
    organization_id: int | None


def row(ticket: TicketDimensions, policy_id: int | None, figures: Figures) -> tuple[Any, ...]:
    """The values of ``COLUMNS`` for one ticket, as the database takes them. ``created_at`` may
    already be in the database's own form (the rebuild passes SQLite's text through)."""
    adapt = connection.ops.adapt_datetimefield_value
    times: list[int | None] = []
    for name in TIME_METRICS:
        value = getattr(figures, name)
        times += (None, None) if value is None else (value.calendar, value.business)
    created_at = ticket.created_at
    return (
        ticket.pk,
        adapt(created_at) if isinstance(created_at, datetime.datetime) else created_at,
        ticket.status,
        ticket.channel,
        ticket.priority,
        ticket.type,
        ticket.team_id,
        ticket.assignee_id,
        ticket.organization_id,
        policy_id,
        *times,
        adapt(figures.first_solved_at),
        adapt(figures.solved_at),
        figures.merged_into,
        figures.replies,
        figures.customer_messages,
        figures.reopens,
        figures.assignee_stations,
        figures.group_stations,
        figures.escalations,
        figures.one_touch,
        figures.first_contact_resolution,
        outcomes_json(figures.sla),
        figures.sla_met,
        figures.sla_breached,
    )


def outcomes_json(outcomes: dict[str, SlaOutcome]) -> str:
    """``sla_outcomes`` as JSON text, metrics in name order; written out directly because
    ``json.dumps`` of the nested dict was a tenth of the rebuild's time (names are fixed
    identifiers, the counts whole numbers: nothing needs escaping)."""
    parts = [
        f'"{metric}": {{"met": {o.met}, "breached": {o.breached}, "running": {o.running}}}'
        for metric, o in sorted(outcomes.items())
    ]
    return "{" + ", ".join(parts) + "}"


@functools.cache
def _upsert_sql(vendor: str) -> str:
    """The upsert statement, made once per database vendor (quoting 40 names per call showed in
    the live path's profile)."""
    table = connection.ops.quote_name(TicketMetrics._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    marks = ["%s"] * len(COLUMNS)
    if vendor == "postgresql":
        marks[COLUMNS.index("sla_outcomes")] = "CAST(%s AS jsonb)"
    updates = ", ".join(
        f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}" for c in COLUMNS[1:]
    )
    # csat_good is left out of the column list: a new row gets NULL, an existing one keeps it.
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join(marks)}) ON CONFLICT (ticket_id) DO UPDATE SET {updates}"


def write_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert or replace these rows (``row``'s tuples) in one statement per row, one round trip."""
    if not rows:
        return
    with prepared_cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(_upsert_sql(connection.vendor), rows[0])
        else:
            cursor.executemany(_upsert_sql(connection.vendor), rows)


@functools.cache
def _swap_sql(vendor: str) -> str:
    """PostgreSQL: the stored values ``rollups.read_record`` reads and the upsert, in one
    statement (every part of a statement sees the rows as they were when it began, so ``old``
    holds the record before the upsert)."""
    source = ", ".join(connection.ops.quote_name(c) for c in rollups.SOURCE)
    table = connection.ops.quote_name(TicketMetrics._meta.db_table)
    return (
        f"WITH old AS (SELECT {source} FROM {table} WHERE ticket_id = %s), "
        f"written AS ({_upsert_sql(vendor)} RETURNING 1) SELECT {source} FROM old"
    )


def swap_row(new: tuple[Any, ...]) -> dict[str, Any] | None:
    """Write one record (``row``'s tuple) and return what it replaced, as ``rollups.read_record``
    gives it (None for a new record): one round trip on PostgreSQL, a read then the upsert on
    SQLite (in process, where a round trip costs nothing)."""
    if connection.vendor != "postgresql":
        old = rollups.read_record(new[0])
        write_rows([new])
        return old
    with prepared_cursor() as cursor:
        cursor.execute(_swap_sql(connection.vendor), [new[0], *new])
        found = cursor.fetchone()
    return None if found is None else dict(zip(rollups.SOURCE, found, strict=True))


def refresh(ticket: Ticket, *, policy_id: int | None) -> Figures:
    """Recompute and store the ticket's metrics record (call inside the change's transaction),
    SLA outcomes under ``policy_id`` (the ticket's SLA policy, as it stands at the end of the
    change)."""
    events = [event for _, event in read_events(ticket.pk, ticket.pk, METRIC_FIELDS, without_values=BARE_FIELDS)]
    policy = sla.policy_by_id(policy_id) if policy_id is not None else None
    history = calendar_history(events, policy.id if policy is not None else None)
    assignments = calendar_choice.current()
    calendars = [(at, schedule_of(assignments.choose(key))) for at, key in history]
    figures = compute(events, calendars, policy.clock if policy is not None else None)
    # A policy deleted meanwhile is no policy (the column is a foreign key).
    new = row(ticket, policy.id if policy is not None else None, figures)
    # The daily rollups move by the difference between the stored record and the new one.
    old = swap_row(new)
    rollups.record_changed(old, dict(zip(COLUMNS, new, strict=True)))
    _remember(ticket, events)
    return figures


def set_csat(ticket_id: int, good: bool | None) -> None:
    """The feedback app's rating of the ticket (None: no rating) onto its record, and the daily
    rollups moved by it (call inside the transaction that records the answer). Nothing happens
    for a ticket without a record."""
    TicketMetrics.objects.select_for_update().filter(pk=ticket_id).values_list("pk").first()  # lock it
    old = rollups.read_record(ticket_id)
    if old is None or old["csat_good"] == good:
        return
    TicketMetrics.objects.filter(pk=ticket_id).update(csat_good=good)
    rollups.record_changed(old, {**old, "csat_good": good})


# --- the receiver ------------------------------------------------------------------------------

# Ticket fields copied as dimensions that the metrics themselves do not read.
_DIMENSION_FIELDS = frozenset({"channel", "type"})

_SEEN = "_analytics_metrics_seen"


def _remember(ticket: Ticket, events: Sequence[EventRow]) -> None:
    """Note on the ticket instance which events its stored row was computed from."""
    ticket.__dict__[_SEEN] = frozenset((e.id, e.field) for e in events)


def _already_counted(ticket: Ticket, events: Sequence[TicketEvent]) -> bool:
    """Whether the row already reflects these events. The SLA clock and the automation record
    their own events from inside another change's dispatch, so this receiver runs for those first
    (having read the outer change's events too, they are in the same transaction) and then again
    for the outer change, with nothing new to count: the second run is skipped. Events are matched
    by id and field, on the very instance the actions pass around (a fresh one per change)."""
    seen = ticket.__dict__.get(_SEEN)
    return seen is not None and all(e.pk is not None and (e.pk, e.field) in seen for e in events)


def on_events_recorded(sender: Any, *, ticket: Ticket, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """Receiver of ``events_recorded``: recompute the row when the change touches the metrics or
    a dimension (any ticket field; tags and followers do not count)."""
    relevant = [e for e in events if e.field in METRIC_FIELDS or e.field in _DIMENSION_FIELDS]
    if not relevant or _already_counted(ticket, relevant):
        return
    # While the SLA clock records a policy change, the ticket's own policy field is not updated
    # yet: the event says which policy applies now.
    policy_id = ticket.sla_policy_id
    for event in events:
        if event.field == "sla_policy":
            policy_id = event.new.get("id") if isinstance(event.new, dict) else None
    refresh(ticket, policy_id=policy_id)
