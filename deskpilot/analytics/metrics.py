"""From a ticket's events to its metrics (DOMAIN.md, "Ticket metrics"): pure computation, no database.

``compute(events, schedule, policy)`` reads TicketEvent-like rows (``field``, ``new``,
``created_at``, ``actor_customer_id``) in time order, as both the live path
(``analytics.ticket_metrics``) and the rebuild (``analytics.rebuild``) read them. Who counts as
agent or customer, and what a status or message event means, is decided once, in
``policies.facts.facts_from_events``; this module only adds the events the clock has no use for
(assignee, escalation, merge).

Definitions, where DOMAIN.md leaves a choice
--------------------------------------------
- Times are whole seconds (as the SLA clock counts), in calendar seconds and in business seconds
  on ``schedule``.
- first_reply_time starts where the SLA's first_reply starts: at creation when a customer created
  the ticket, else at the customer's first public message (an agent's outbound ticket has nothing
  to reply to before that). It ends at the first public agent reply at or after the start.
- The message a ticket is created with is its description, not a reply: it is not counted in
  ``replies`` (so an outbound ticket solved after one answer is still one-touch). It is a customer
  message when a customer wrote it.
- Solved and closed both count as solved; solved -> closed is not a new solve, and a transition out
  of solved into anything but closed is a reopen.
- Outcome metrics wait for the ticket to be solved: full_resolution_time, requester/agent wait,
  on-hold time, one_touch and first_contact_resolution are null while the ticket is unsolved
  (also between a reopen and the next solve: they are not live counters). first_resolution_time
  stays once set. The status periods summed run from creation to the latest solve; time spent
  solved before a reopen belongs to no status metric.
- Stations count distinct assignees / teams the ticket ever had, including the initial ones;
  unassigned and no team are not stations.
- ``escalations`` counts escalation events going up the ladder (a step down is not one).
- A merge moves messages, not events: each ticket keeps the metrics of its own history. The merged
  ticket is solved and closed by the merge and names its target (``merged_into``) so reports can
  leave it out; the target's metrics do not take over the moved messages.
- SLA outcome per target: the policy's target instances (``policies.clock.evaluate``) as they
  stand at the ticket's latest event. The SLA sweep records a breach as an event the moment it
  happens, so a target that ran out is counted breached as soon as that event exists.

Calendars over time
-------------------
DOMAIN.md measures a span (first reply, resolutions, an SLA target instance) on the calendar in
force when it ends, and each status period (waits, on hold) on the calendar in force during it.
``calendar_history`` reads from the events what chose the calendar at each moment (the SLA policy
the clock recorded, a rule's pin, the team, the organization); the caller turns each into a
schedule, chosen as the SLA clock chooses its calendar (``policies.calendar_choice``), and ``compute``
applies the rule. One simplification remains: the calendar of a team, organization or policy is
taken as configured now, since calendar assignments have no history of their own.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from deskpilot.policies import clock
from deskpilot.policies.business_time import Schedule, business_seconds_between
from deskpilot.policies.calendar_choice import CalendarKey
from deskpilot.policies.facts import facts_from_events
from deskpilot.tickets.models import TicketEvent

SOLVED_STATUSES = frozenset({"solved", "closed"})
REQUESTER_WAITING = frozenset({"new", "open", "on_hold"})
SPAN_METRICS = ("first_reply_time", "first_resolution_time", "full_resolution_time")
PERIOD_METRICS = ("requester_wait_time", "agent_wait_time", "on_hold_time")
TIME_METRICS = SPAN_METRICS + PERIOD_METRICS
# The events the metrics read; everything else (tags, subject, CCs...) leaves them unchanged.
METRIC_FIELDS = (
    "created",
    "status",
    "priority",
    "team",
    "organization",
    "assignee",
    "message",
    "escalation",
    "merge",
    "sla",
    "sla_policy",
    "sla_pin",
)
# Of those, the fields whose values the metrics never read (a breach finding counts by its time
# only): read without them.
BARE_FIELDS = ("sla",)


# The calendars in force: (from this Unix second, schedule), in time order; the first covers all
# that came before it.
Calendars = Sequence[tuple[int, Schedule]]


class EventRow(Protocol):
    """The part of a TicketEvent the metrics read (a TicketEvent, or a row the rebuild made)."""

    field: str
    new: Any
    created_at: datetime
    actor_customer_id: int | None


@dataclass(frozen=True, slots=True)
class Duration:
    """One time metric, in calendar and business seconds."""

    calendar: int
    business: int


@dataclass(frozen=True, slots=True)
class SlaOutcome:
    """A policy's target instances of one metric: how many were met, breached, or are still running."""

    met: int = 0
    breached: int = 0
    running: int = 0


@dataclass(frozen=True)
class Figures:
    """A ticket's metrics as computed from its events; None where an end does not exist yet."""

    first_reply_time: Duration | None = None
    first_resolution_time: Duration | None = None
    full_resolution_time: Duration | None = None
    requester_wait_time: Duration | None = None
    agent_wait_time: Duration | None = None
    on_hold_time: Duration | None = None
    replies: int = 0
    customer_messages: int = 0
    reopens: int = 0
    assignee_stations: int = 0
    group_stations: int = 0
    one_touch: bool | None = None
    first_contact_resolution: bool | None = None
    escalations: int = 0
    first_solved_at: datetime | None = None
    solved_at: datetime | None = None
    merged_into: int | None = None
    # Per metric ("first_reply", ..., "group_ownership"), only metrics the policy measured.
    sla: dict[str, SlaOutcome] = field(default_factory=dict)

    @property
    def sla_met(self) -> int:
        return sum(o.met for o in self.sla.values())

    @property
    def sla_breached(self) -> int:
        return sum(o.breached for o in self.sla.values())


def _ts(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def compute(events: Sequence[EventRow], calendars: Schedule | Calendars, policy: clock.Policy | None = None) -> Figures:
    """The metrics of the ticket with these events (time order, the created event first), business
    time on ``calendars`` (one schedule, or those in force over time: see
    ``calendar_history``), SLA outcomes under ``policy`` (none without one). A ticket without a
    created event (never the case for tickets made by the actions) has no metrics."""
    facts = facts_from_events(cast(Sequence[TicketEvent], events))
    if not facts or facts[0].kind != "created":
        return Figures()
    start = facts[0]
    created = _ts(start.at)
    timeline = [(0, calendars)] if isinstance(calendars, Schedule) else list(calendars)
    starts = [since for since, _ in timeline]

    def in_force(at: int) -> Schedule:
        return timeline[max(0, bisect_right(starts, at) - 1)][1]

    def duration(a: int, b: int) -> Duration:
        """A span, measured on the calendar in force when it ends."""
        return Duration(b - a, business_seconds_between(in_force(b), a, b))

    def period_business(a: int, b: int) -> int:
        """A status period: each part on the calendar in force during it."""
        total = 0
        i = max(0, bisect_right(starts, a) - 1)
        while a < b:
            until = min(b, starts[i + 1]) if i + 1 < len(starts) else b
            total += business_seconds_between(timeline[i][1], a, until)
            a, i = until, i + 1
        return total

    # Status periods: (calendar, business) seconds per status, from creation to the latest solve.
    time_in: dict[str, list[int]] = {}
    status = start.status or "new"
    since = created
    first_solved = last_solved = created if status in SOLVED_STATUSES else None
    reopens = replies = customer_messages = 0
    first_reply_from = created if start.by_customer else None
    first_reply_at: int | None = None
    message_seen = False
    for fact in facts[1:]:
        kind = fact.kind
        if kind == "status":
            new = fact.status or status
            if new == status:
                continue
            at = _ts(fact.at)
            if status not in SOLVED_STATUSES:
                spent = time_in.setdefault(status, [0, 0])
                spent[0] += at - since
                spent[1] += period_business(since, at)
                if new in SOLVED_STATUSES:
                    first_solved = at if first_solved is None else first_solved
                    last_solved = at
            elif status == "solved" and new != "closed":
                reopens += 1
            status, since = new, at
        elif kind == "public_reply_by_agent":
            at = _ts(fact.at)
            opening = not message_seen and at == created
            message_seen = True
            if opening:
                continue
            replies += 1
            if first_reply_at is None and first_reply_from is not None:
                first_reply_at = at
        elif kind == "customer_message":
            message_seen = True
            customer_messages += 1
            if first_reply_from is None:
                first_reply_from = _ts(fact.at)

    assignees, teams, escalations, merged_into = _people_and_moves(events)
    solved_now = status in SOLVED_STATUSES
    figures: dict[str, Any] = {
        "replies": replies,
        "customer_messages": customer_messages,
        "reopens": reopens,
        "assignee_stations": len(assignees),
        "group_stations": len(teams),
        "escalations": escalations,
        "merged_into": merged_into,
        "first_solved_at": None if first_solved is None else _utc(first_solved),
        "sla": _sla_outcomes(facts, events, policy, in_force) if policy is not None else {},
    }
    if first_reply_from is not None and first_reply_at is not None:
        figures["first_reply_time"] = duration(first_reply_from, first_reply_at)
    if first_solved is not None:
        figures["first_resolution_time"] = duration(created, first_solved)
    if solved_now and last_solved is not None:
        figures["solved_at"] = _utc(last_solved)
        figures["full_resolution_time"] = duration(created, last_solved)

        def total(statuses: frozenset[str]) -> Duration:
            spent = [time_in.get(s, [0, 0]) for s in statuses]
            return Duration(sum(s[0] for s in spent), sum(s[1] for s in spent))

        figures["requester_wait_time"] = total(REQUESTER_WAITING)
        figures["agent_wait_time"] = total(frozenset({"pending"}))
        figures["on_hold_time"] = total(frozenset({"on_hold"}))
        figures["one_touch"] = replies < 2
        figures["first_contact_resolution"] = customer_messages <= 1
    return Figures(**figures)


def _people_and_moves(events: Sequence[EventRow]) -> tuple[set[int], set[int], int, int | None]:
    """Distinct assignees and teams, upward escalations and the ticket this one was merged into."""
    assignees: set[int] = set()
    teams: set[int] = set()
    escalations = 0
    merged_into: int | None = None
    for event in events:
        name, new = event.field, event.new
        if name == "created":
            initial = new if isinstance(new, dict) else {}
            if initial.get("assignee") is not None:
                assignees.add(int(initial["assignee"]))
            if initial.get("team") is not None:
                teams.add(int(initial["team"]))
        elif name == "assignee":
            if new is not None:
                assignees.add(int(new))
        elif name == "team":
            if new is not None:
                teams.add(int(new))
        elif name == "escalation":
            if isinstance(new, dict) and new.get("direction") == "up":
                escalations += 1
        elif name == "merge" and isinstance(new, dict) and new.get("into") is not None:
            merged_into = int(new["into"])
    return assignees, teams, escalations, merged_into


def _sla_outcomes(
    facts: Sequence[clock.Fact], events: Sequence[EventRow], policy: clock.Policy, in_force: Callable[[int], Schedule]
) -> dict[str, SlaOutcome]:
    """The policy's target instances as they stand at the ticket's latest event (any field: the
    SLA sweep's breach events move it forward), counted per metric. Like the SLA clock, on the
    calendar in force then: a target instance is a span, measured on the calendar of its end."""
    latest = max(event.created_at for event in events)
    counts: dict[str, list[int]] = {}
    for instance in clock.evaluate(facts, policy, in_force(_ts(latest)), latest):
        tally = counts.setdefault(instance.metric, [0, 0, 0])
        if instance.state.startswith("breached"):
            tally[1] += 1
        elif instance.state == "fulfilled":
            tally[0] += 1
        else:
            tally[2] += 1
    return {metric: SlaOutcome(*tally) for metric, tally in counts.items()}


def calendar_history(events: Sequence[EventRow], current_policy: int | None) -> list[tuple[int, CalendarKey]]:
    """What chose the ticket's calendar from its creation on: (Unix second, key) at creation and
    at each change of SLA policy, pin, team or organization. The policy is the one the SLA clock
    recorded (``sla_policy`` events) until its latest record, and ``current_policy`` from then on
    (or throughout, when none was recorded: a bulk SLA rebuild sets policies without events)."""
    last_policy_event = max((i for i, e in enumerate(events) if e.field == "sla_policy"), default=None)
    policy = current_policy if last_policy_event is None else None
    pinned = team = organization = None
    history: list[tuple[int, CalendarKey]] = []
    for i, event in enumerate(events):
        name, new = event.field, event.new
        if name == "created":
            initial = new if isinstance(new, dict) else {}
            team, organization = initial.get("team"), initial.get("organization")
        elif name == "team":
            team = new
        elif name == "organization":
            organization = new
        elif name == "sla_pin":
            pinned = new.get("calendar") if isinstance(new, dict) else None
        elif name == "sla_policy":
            recorded = new.get("id") if isinstance(new, dict) else None
            policy = current_policy if i == last_policy_event else recorded
        else:
            continue
        if not history and name != "created":
            continue  # nothing is measured before the ticket exists
        key = (policy, pinned, team, organization)
        at = _ts(event.created_at)
        if history and history[-1][0] == at:
            history.pop()  # several changes at one instant: the last one stands
        if not history or history[-1][1] != key:
            history.append((at, key))
    return history or [(0, (current_policy, None, None, None))]
