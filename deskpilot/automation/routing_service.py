"""Routing in the database: when a ticket needs an agent, lock its team, read the agents' states,
let ``routing.choose`` decide, and assign through the one ticket action.

Fairness across processes: the choice is made holding the team's row lock (select_for_update on
PostgreSQL; SQLite serialises writers anyway), and the loads are read after the lock is taken, so
two web processes or workers routing for one team take turns and each sees the other's
assignment. Locks are always taken ticket first, team second (the ticket action holds the ticket
when the hook runs; the queue sweep locks the ticket before routing it), so routing cannot
deadlock against itself.

Cost: a team in manual mode costs nothing when the caller's ticket has its team loaded (a new
ticket does) and one query otherwise; routing a ticket costs a fixed number of queries whatever
the team's size (tests/automation/test_routing_service.py pins them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Max, Subquery, Value, When
from django.db.models.functions import Coalesce

from deskpilot.accounts.models import AGENT_ROLES, Availability, RoutingMode, Team, TeamMembership, User
from deskpilot.automation import routing
from deskpilot.tickets import actions
from deskpilot.tickets.models import UNSOLVED, Priority, Ticket, TicketEvent, TicketTag, Via

logger = logging.getLogger(__name__)

CAUSE = "routing"
# Changes after which an unassigned ticket looks for an agent.
_ROUTE_ON = frozenset({"created", "team", "assignee", "status"})
# Queued tickets looked at per team and sweep: more wait for the next run, a minute later.
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Outcome:
    """What routing one ticket did: the agent it went to, or why it waits."""

    agent: User | None = None
    # "manual", "nobody" (no agent online with room), "no_match" (skills without fallback),
    # "not_queued" (assigned, solved or teamless meanwhile).
    waiting: str = ""


def wants_routing(ticket: Ticket, events: Sequence[TicketEvent]) -> bool:
    """Whether this change leaves an unsolved ticket of a team without an assignee (new, moved
    to another team, unassigned or reopened); never for routing's own assignment."""
    if ticket.assignee_id is not None or ticket.team_id is None or ticket.status not in UNSOLVED:
        return False
    if actions.current_cause() == CAUSE:
        return False
    return any(e.field in _ROUTE_ON for e in events)


def frees_room(ticket: Ticket, events: Sequence[TicketEvent]) -> bool:
    """Whether this change takes open work off an agent (solved, or reassigned): someone at
    capacity may now take a queued ticket."""
    if ticket.team_id is None or actions.current_cause() == CAUSE:
        return False
    return any(
        (e.field == "status" and e.old in UNSOLVED and e.new not in UNSOLVED)
        or (e.field == "assignee" and e.old is not None)
        for e in events
    )


def on_events_recorded(sender: Any, *, ticket: Ticket, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    """events_recorded receiver: route the ticket inside the change's transaction; when the
    change frees room and the team has a queue, assign the queue once it commits (a job)."""
    if not wants_routing(ticket, events):
        if frees_room(ticket, events) and _routed_queue_exists(ticket.team_id):  # type: ignore[arg-type]
            from deskpilot.automation import routing_tasks

            team_ids = [ticket.team_id]
            transaction.on_commit(lambda: routing_tasks.assign_queued(team_ids))
        return
    # A new ticket carries its Team instance: a manual team costs no query at all.
    cached = ticket._state.fields_cache.get("team")
    if isinstance(cached, Team) and cached.routing_mode == RoutingMode.MANUAL:
        return
    route_ticket(ticket)


def route_ticket(ticket: Ticket) -> Outcome:
    """Assign ``ticket`` (locked by the caller, inside its transaction) to the agent its team's
    routing chooses. The very instance is passed to the ticket action, so the caller's copy
    stays current."""
    if ticket.assignee_id is not None or ticket.team_id is None or ticket.status not in UNSOLVED:
        return Outcome(waiting="not_queued")
    team = (
        Team.objects.select_for_update()
        .only("routing_mode", "routing_weights", "routing_skills_fallback")
        .filter(pk=ticket.team_id)
        .first()
    )
    if team is None or team.routing_mode == RoutingMode.MANUAL:
        return Outcome(waiting="manual")
    mode = team.routing_mode
    members = _members(team, everyone=mode == RoutingMode.SKILLS)
    people = [m.user for m in members]
    if not any(p.availability == Availability.ONLINE for p in people):
        return Outcome(waiting="nobody")
    loads = _loads(team, people) if mode in routing.LOAD_MODES or any(p.capacity for p in people) else {}
    agents = [_agent(m, loads.get(m.user_id, 0)) for m in members]
    needs = _needs(ticket) if mode == RoutingMode.SKILLS else None
    chosen = routing.choose(mode, agents, needs=needs, fallback=team.routing_skills_fallback)
    if chosen is None:
        eligible = any(a.eligible for a in agents)
        return Outcome(waiting="no_match" if eligible else "nobody")
    membership = next(m for m in members if m.user_id == chosen.id)
    with actions.caused_by(CAUSE):
        actions.update_ticket(ticket, actor=None, via=Via.RULE, changes={"assignee": membership.user})
    # The team's next turn, counted over all its members (one statement, under the team's lock).
    highest = TeamMembership.objects.filter(team_id=team.pk).order_by().values("team_id").annotate(t=Max("last_turn"))
    TeamMembership.objects.filter(pk=membership.pk).update(
        last_turn=Coalesce(Subquery(highest.values("t")), Value(0)) + 1
    )
    return Outcome(agent=membership.user)


def _members(team: Team, *, everyone: bool) -> list[TeamMembership]:
    """The team's active agents with their turn; only the online ones unless ``everyone``
    (skills mode asks which needs any member could meet)."""
    rows = TeamMembership.objects.filter(team=team, user__is_active=True, user__role__in=AGENT_ROLES)
    if not everyone:
        rows = rows.filter(user__availability=Availability.ONLINE)
    # Only what routing and the assignment read: no password hashes and dates to parse.
    fields = ("email", "name", "role", "is_active", "availability", "capacity", "skills", "languages", "language")
    return list(
        rows.select_related("user").only("user_id", "last_turn", *(f"user__{f}" for f in fields)).order_by("user_id")
    )


def _loads(team: Team, members: Iterable[User]) -> dict[int, int]:
    """Each online member's weighted open work, in all their teams (one query)."""
    ids = [m.pk for m in members if m.availability == Availability.ONLINE]
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Ticket.objects.filter(assignee_id__in=ids, status__in=UNSOLVED)
        .values_list("assignee_id", "priority")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for assignee_id, priority, n in rows:
        counts.setdefault(assignee_id, {})[priority] = n
    return {agent_id: routing.weighted_load(c, team.routing_weights) for agent_id, c in counts.items()}


def _agent(membership: TeamMembership, load: int) -> routing.Agent:
    user = membership.user
    return routing.Agent(
        id=user.pk,
        availability=user.availability,
        load=load,
        capacity=user.capacity,
        skills=frozenset(user.skills or ()),
        languages=frozenset(user.languages or ()) or frozenset({user.language}),
        last_routed=membership.last_turn,
    )


def _needs(ticket: Ticket) -> routing.Needs:
    """The ticket's language (its requester's) and tags."""
    requester = ticket._state.fields_cache.get("requester")
    if requester is None:
        from deskpilot.customers.models import Customer

        language = Customer.objects.filter(pk=ticket.requester_id).values_list("language", flat=True).first()
    else:
        language = requester.language
    tags = frozenset(TicketTag.objects.filter(ticket_id=ticket.pk).values_list("tag__name", flat=True))
    return routing.Needs(language=language or None, tags=tags)


# --- the queue -----------------------------------------------------------------------------------

_URGENCY = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def queued(team_id: int) -> list[int]:
    """A team's queue: its unsolved tickets without an assignee, most urgent first, then oldest."""
    return list(
        Ticket.objects.filter(team_id=team_id, assignee__isnull=True, status__in=UNSOLVED)
        .order_by(_URGENCY, "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def _routed_queue_exists(team_id: int) -> bool:
    """Whether a routed (not manual) team has tickets waiting: one query."""
    return (
        Ticket.objects.filter(team_id=team_id, assignee__isnull=True, status__in=UNSOLVED)
        .exclude(team__routing_mode=RoutingMode.MANUAL)
        .exists()
    )


def assign_queued(team_ids: Iterable[int] | None = None) -> int:
    """Assign the queued tickets of the given teams (all routed teams when None) to whoever is
    available now; returns how many were assigned. Each ticket is its own transaction, checked
    again under its lock, and a ticket another worker holds is skipped: running this twice, or
    in two workers at once, or being killed half-way leaves every ticket assigned once or still
    queued for the next run."""
    teams = Team.objects.exclude(routing_mode=RoutingMode.MANUAL).filter(
        members__availability=Availability.ONLINE, members__is_active=True, members__role__in=AGENT_ROLES
    )
    if team_ids is not None:
        teams = teams.filter(pk__in=list(team_ids))
    assigned = 0
    for team_id in sorted(set(teams.values_list("pk", flat=True))):
        for ticket_id in queued(team_id):
            outcome = _route_queued(ticket_id, team_id)
            if outcome.agent is not None:
                assigned += 1
            elif outcome.waiting in ("nobody", "manual"):
                break  # nobody left to take this team's tickets; the rest wait too
    if assigned:
        logger.info("routing: assigned %d queued ticket(s)", assigned)
    return assigned


def _route_queued(ticket_id: int, team_id: int) -> Outcome:
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(pk=ticket_id, team_id=team_id, assignee__isnull=True, status__in=UNSOLVED)
            .first()
        )
        if ticket is None:
            return Outcome(waiting="not_queued")
        return route_ticket(ticket)


def teams_of(user: User) -> list[int]:
    return list(Team.objects.filter(members=user).values_list("pk", flat=True))


def on_signed_out(sender: Any, *, user: User | None = None, **kwargs: Any) -> None:
    """user_logged_out receiver: availability expires at sign-out."""
    if user is None or not isinstance(user, User) or user.availability == Availability.OFFLINE:
        return
    from deskpilot.accounts.actions import set_availability

    set_availability(user, Availability.OFFLINE, actor=None)
