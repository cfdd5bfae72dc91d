"""Triggers: run on every ticket change, inside its transaction (``tickets.signals.events_recorded``).

Cost. The active triggers are compiled once per process and kept with a version stamp (the
count, newest ``updated_at`` and highest id of all triggers: one small query per ticket change);
a change to any trigger moves the stamp, so every process recompiles on its next change. A
change with no matching trigger costs that one query and a few comparisons per trigger. Tags and
business hours are read only when a condition asks for them.

Semantics. Triggers are tried in order (position, id). A trigger that matches applies its actions
to the ticket the action holds (the caller's copy stays current), as the system, with every event
recording ``trigger:<id>``; its change is announced again, so it can fire other triggers: a
chain. Within one chain (one change by a person, an API client, mail or a timer, and everything it
set off) each trigger fires at most once, so a trigger's own change never refires it, and the
chain stops at ``MAX_DEPTH`` levels, with a warning logged. Later triggers see the ticket as the
earlier ones left it. A trigger whose actions are refused (InvalidInput: e.g. an assignee who left
the team) is skipped and logged; the change that set it off is kept.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction

from deskpilot.accounts.models import AGENT_ROLES
from deskpilot.automation.models import Trigger
from deskpilot.automation.rules import actions as rule_actions
from deskpilot.automation.rules.conditions import TICKET_FIELDS, Predicate, Snapshot, compile_conditions
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Ticket, TicketEvent, TicketTag

logger = logging.getLogger(__name__)

MAX_DEPTH = 5
OCCURRENCES = frozenset({"created", "message", "link", "merge", "split"})


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    matches: Predicate
    actions: tuple[dict[str, Any], ...]


# --- the compiled triggers, per process ----------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], list[CompiledRule]] | None = None


_STAMP_SQL = f"SELECT COUNT(*), MAX(updated_at), MAX(id) FROM {Trigger._meta.db_table}"


def _stamp() -> tuple[Any, ...]:
    """The triggers' version: row count, newest change, highest id. Plain SQL: this runs on every
    ticket change, and the ORM's query building would cost more than the query itself."""
    with connections[router.db_for_read(Trigger)].cursor() as cursor:
        cursor.execute(_STAMP_SQL)
        row = cursor.fetchone()
    return tuple(row) if row is not None else ()


def compile_rule(rule: Any) -> CompiledRule:
    return CompiledRule(
        id=rule.pk, name=rule.name, matches=compile_conditions(rule.conditions), actions=tuple(rule.actions)
    )


def active_triggers() -> list[CompiledRule]:
    """The active triggers in order, compiled; one query when nothing changed since last time."""
    global _cached
    stamp = _stamp()
    cached = _cached
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rules = []
    for trigger in Trigger.objects.filter(active=True).order_by("position", "id"):
        try:
            rules.append(compile_rule(trigger))
        except (KeyError, TypeError, ValueError):
            # Stored rules are cleaned by rules.schema; one written around it is left out, loudly.
            logger.exception("trigger %s has invalid conditions and is ignored", trigger.pk)
    with _lock:
        _cached = (stamp, rules)
    return rules


def clear_cache() -> None:
    global _cached
    with _lock:
        _cached = None


# --- the ticket's calendar ------------------------------------------------------------------------


def calendar_for(team_id: int | None, organization_id: int | None) -> Any:
    """The business calendar a ticket keeps: its team's, else its organization's, else the
    default one; None when there is none (then every hour counts as a business hour)."""
    from deskpilot.policies import calendar_choice

    key = (None, None, team_id, organization_id)
    return calendar_choice.current().choose(key)


def is_business_hours(team_id: int | None, organization_id: int | None, at: datetime) -> bool:
    from deskpilot.policies.business_time import is_open
    from deskpilot.policies.calendars import schedule_for

    calendar = calendar_for(team_id, organization_id)
    if calendar is None:
        return True
    return is_open(schedule_for(calendar), at)


# --- snapshots ------------------------------------------------------------------------------------


def ticket_fields(ticket: Ticket) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: getattr(ticket, f"{name}_id" if name in ("team", "assignee", "requester", "organization") else name)
        for name in TICKET_FIELDS
    }
    values["custom_fields"] = ticket.custom_fields or {}
    return values


def author_of(role: str | None) -> str:
    if role in ("customer", "system"):
        return str(role)
    return "agent" if role in AGENT_ROLES else "collaborator"


def snapshot_for(ticket: Ticket, events: Sequence[TicketEvent]) -> Snapshot:
    """The change ``events`` made to ``ticket``, as plain values (no query; tags and business
    hours are read on first use)."""
    changes: dict[str, tuple[Any, Any]] = {}
    message: dict[str, Any] | None = None
    event_kind = "updated"
    for event in events:
        if event.field == "created":
            event_kind = "created"
        elif event.field == "message":
            new = event.new if isinstance(event.new, dict) else {}
            body = event.message.body_text if event.message is not None else ""
            message = {"text": body, "public": bool(new.get("public")), "author": author_of(new.get("author_role"))}
        elif event.field not in OCCURRENCES:
            changes[event.field] = (event.old, event.new)
    at = events[0].created_at if events else ticket.updated_at
    team_id, organization_id = ticket.team_id, ticket.organization_id
    tags_changed = changes.get("tags")

    def tags() -> list[str]:
        if tags_changed is not None:
            return list(tags_changed[1] or ())
        return list(TicketTag.objects.filter(ticket_id=ticket.pk).values_list("tag__name", flat=True))

    return Snapshot(
        fields=ticket_fields(ticket),
        changes=changes,
        event=event_kind,
        via=events[0].via if events else "system",
        message=message,
        tags=tags,
        in_business_hours=lambda: is_business_hours(team_id, organization_id, at),
    )


# --- the receiver ---------------------------------------------------------------------------------


@dataclass
class _Chain:
    depth: int = 0
    fired: set[int] = field(default_factory=set)


_chain: contextvars.ContextVar[_Chain | None] = contextvars.ContextVar("deskpilot_trigger_chain", default=None)


def on_events_recorded(sender: Any, *, ticket: Ticket, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """Receiver of ``events_recorded``: run the active triggers on this change."""
    if not events:
        return
    rules = active_triggers()
    if not rules:
        return
    chain = _chain.get()
    token = None
    if chain is None:
        chain = _Chain()
        token = _chain.set(chain)
    try:
        run_triggers(ticket, events, rules, chain)
    finally:
        if token is not None:
            _chain.reset(token)


def run_triggers(ticket: Ticket, events: Sequence[TicketEvent], rules: Sequence[CompiledRule], chain: _Chain) -> None:
    if chain.depth >= MAX_DEPTH:
        waiting = [r.id for r in rules if r.id not in chain.fired and r.matches(snapshot_for(ticket, events))]
        if waiting:
            logger.warning(
                "ticket %s: trigger chain stopped at depth %d (fired %s; would fire %s)",
                ticket.pk,
                MAX_DEPTH,
                sorted(chain.fired),
                waiting,
            )
        return
    snapshot = snapshot_for(ticket, events)
    chain.depth += 1
    try:
        for rule in rules:
            if rule.id in chain.fired or not rule.matches(snapshot):
                continue
            chain.fired.add(rule.id)
            try:
                # A savepoint: a refused action undoes only this trigger's work.
                with transaction.atomic():
                    rule_actions.apply(ticket, rule.actions, cause=f"trigger:{rule.id}")
            except InvalidInput as error:
                ticket.refresh_from_db()  # the savepoint undid what the instance may already show
                logger.warning("ticket %s: trigger %s (%s) was not applied: %s", ticket.pk, rule.id, rule.name, error)
                continue
            # Later triggers see the ticket as this one left it; the change is still the same.
            snapshot = snapshot_for(ticket, events)
    finally:
        chain.depth -= 1
