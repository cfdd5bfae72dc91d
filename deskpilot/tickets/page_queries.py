"""Read paths of the agent's ticket page that tickets.queries does not have (yet): the
requester's other tickets, the staff and teams the side panel offers, and the names an event
history refers to by id. Each costs one query whatever the number of rows, so the page's query
count stays constant. (Candidates to move into tickets.queries.)"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from deskpilot.accounts.models import AGENT_ROLES, Team, TeamMembership, User
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets import permissions
from deskpilot.tickets.models import CustomField, Ticket, TicketEvent

OTHER_TICKETS = 10


def other_tickets(user: User, ticket: Ticket, *, limit: int = OTHER_TICKETS) -> list[Ticket]:
    """The requester's latest other tickets the viewer may see, newest first (one query, on the
    (requester, id) index)."""
    return list(
        permissions.visible_tickets(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .only("id", "subject", "status", "created_at", "updated_at")
        .order_by("-id")[:limit]
    )


def requester_organization(ticket: Ticket) -> Organization | None:
    """The requester's organization: the ticket's own (already joined) when it is the same one."""
    requester = ticket.requester
    if requester.organization_id is None:
        return None
    if requester.organization_id == ticket.organization_id:
        return ticket.organization
    return requester.organization


@dataclass
class Staff:
    """Who the side panel offers: teams, and active agents with the teams they belong to."""

    teams: list[Team]
    agents: list[User]
    teams_of: dict[int, set[int]] = field(default_factory=dict)

    def agent(self, pk: int) -> User | None:
        return next((a for a in self.agents if a.pk == pk), None)

    def team(self, pk: int) -> Team | None:
        return next((t for t in self.teams if t.pk == pk), None)


def staff_choices(ticket: Ticket) -> Staff:
    """Teams, agents (plus the current assignee, even if no longer an active agent) and team
    memberships: three queries."""
    teams = list(Team.objects.order_by("name", "id").only("id", "name"))
    agents = list(
        User.objects.filter(role__in=AGENT_ROLES, is_active=True).order_by("name", "id").only("id", "name", "role")
    )
    if ticket.assignee_id and not any(a.pk == ticket.assignee_id for a in agents) and ticket.assignee:
        agents.append(ticket.assignee)
    teams_of: dict[int, set[int]] = collections.defaultdict(set)
    for team_id, user_id in TeamMembership.objects.filter(user__role__in=AGENT_ROLES, user__is_active=True).values_list(
        "team_id", "user_id"
    ):
        teams_of[user_id].add(team_id)
    return Staff(teams=teams, agents=agents, teams_of=dict(teams_of))


def custom_field_definitions() -> list[CustomField]:
    return list(CustomField.objects.filter(active=True).order_by("position", "key"))


@dataclass
class Names:
    """Display names of the people, teams and organizations an event history names by id."""

    users: dict[int, str] = field(default_factory=dict)
    teams: dict[int, str] = field(default_factory=dict)
    customers: dict[int, str] = field(default_factory=dict)
    organizations: dict[int, str] = field(default_factory=dict)
    custom_fields: dict[str, str] = field(default_factory=dict)

    def of(self, kind: str, pk: Any) -> str:
        if pk is None:
            return "nobody" if kind == "users" else "none"
        table: dict[int, str] = getattr(self, kind)
        try:
            return table.get(int(pk), f"#{pk}")
        except (TypeError, ValueError):
            return str(pk)


# Which table an event field's ids point into.
EVENT_ID_KINDS = {
    "assignee": "users",
    "followers": "users",
    "team": "teams",
    "requester": "customers",
    "ccs": "customers",
    "organization": "organizations",
}


def _ids(value: Any) -> Iterable[int]:
    values = value if isinstance(value, list) else [value]
    return (int(v) for v in values if isinstance(v, int) and not isinstance(v, bool))


def event_names(
    events: list[TicketEvent],
    *,
    users: Iterable[User] = (),
    teams: Iterable[Team] = (),
    customers: Iterable[Customer] = (),
    organizations: Iterable[Organization] = (),
    custom_fields: Iterable[CustomField] = (),
) -> Names:
    """Names for every id the events mention. The people, teams and organizations given are
    already loaded and are not fetched again; the rest costs at most one query per kind, whatever the number of
    events."""
    names = Names(
        users={u.pk: u.name for u in users},
        teams={t.pk: t.name for t in teams},
        customers={c.pk: c.name for c in customers},
        organizations={o.pk: o.name for o in organizations},
        custom_fields={f.key: f.label for f in custom_fields},
    )
    wanted: dict[str, set[int]] = collections.defaultdict(set)
    for event in events:
        if event.field == "created" and isinstance(event.new, dict):
            for key in ("assignee", "team", "requester", "organization"):
                wanted[EVENT_ID_KINDS[key]].update(_ids(event.new.get(key)))
            wanted["customers"].update(_ids(event.new.get("ccs")))
            continue
        kind = EVENT_ID_KINDS.get(event.field)
        if kind:
            wanted[kind].update(_ids(event.old))
            wanted[kind].update(_ids(event.new))
    models: dict[str, Any] = {"users": User, "teams": Team, "customers": Customer, "organizations": Organization}
    for kind, ids in wanted.items():
        table: dict[int, str] = getattr(names, kind)
        missing = ids - set(table)
        if missing:
            table.update(models[kind].objects.filter(pk__in=missing).values_list("pk", "name"))
    return names
