"""The managers' "Operations, live" figures: what the help desk looks like right now.

Pure read functions returning dataclasses; the page (``analytics.views``) only lays them out.
Every function costs a fixed number of aggregate queries whatever the number of tickets, each
served by an index of tickets.Ticket or tickets.TicketEvent (``operations`` runs them all):

- backlog: one GROUP BY over the unsolved tickets (``ticket_status_id``), which also yields the
  counts per team and priority and the unassigned count, plus the team names;
- SLA: one conditional count and two short lists over ``ticket_sla_next_breach`` (partial index
  of the running clocks);
- oldest waiting: the unsolved tickets' messages, probed through ``message_ticket_created``;
- agents: the online agents and their open work (``ticket_assignee_status_id``);
- today: created per hour (``ticket_created_at``), solves and escalations per hour / listed
  (``event_created_at``).

Definitions (documented on the page too):

- Backlog: tickets in an unsolved status (new, open, pending, on hold), as the inbox's "All open".
- At risk: a running SLA target due within the next hour (now < next breach <= now + 1 h).
  Breached: the next breach is at or before now. Only unsolved tickets: a solved ticket's clocks
  have stopped.
- Waiting customer: DOMAIN.md's requester wait runs in new, open and on hold; among those
  tickets, the customer waits for an agent when no public agent reply came after their first
  unanswered public message. Waiting since = that message (the first customer message after the
  latest public agent reply), or the ticket's creation when no agent has replied publicly yet
  (an agent's message that opened the ticket is not a reply, as in analytics.metrics).
  A ticket whose latest public message is the agent's is not waiting for a reply.
- Load: open work as routing counts it (``automation.routing_service``): unsolved tickets
  assigned to the agent, weighted by priority with ``routing.weighted_load``'s default weights
  (a team's own weights apply only when that team routes).
- Created / solved today: tickets created, and changes of status to solved recorded (a ticket
  solved twice today counts twice: the work was done twice), per hour of the viewer's day in the
  viewer's time zone.
- Escalations today: ``escalation`` events whose direction is up, recorded since the viewer's
  midnight.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import TruncHour
from django.utils import timezone

from deskpilot.accounts.models import AGENT_ROLES, Availability, Team, User
from deskpilot.automation import routing
from deskpilot.tickets.models import UNSOLVED, Message, Priority, Status, Ticket, TicketEvent

# Statuses of the backlog, in the order of the ticket's life.
BACKLOG_STATUSES = [s for s in Status if s in UNSOLVED]
# DOMAIN.md: the customer is the one waiting in these (requester wait counts them).
WAITING_STATUSES = (Status.NEW, Status.OPEN, Status.ON_HOLD)
AT_RISK_WINDOW = datetime.timedelta(hours=1)
# How many tickets the SLA, waiting and escalation tiles list; the rest is one click away.
LIST_SIZE = 5
_UNSOLVED = sorted(str(s) for s in UNSOLVED)


@dataclass(frozen=True)
class GroupCount:
    """One counted group: its key (a status, priority, team id or None), label and count."""

    key: str | int | None
    label: str
    count: int


@dataclass(frozen=True)
class Backlog:
    total: int
    unassigned: int
    by_status: list[GroupCount]
    by_team: list[GroupCount]
    by_priority: list[GroupCount]


@dataclass(frozen=True)
class TicketLine:
    """A ticket as a tile lists it; ``at`` is the instant the tile is about (due, waiting since)."""

    id: int
    subject: str
    priority: str
    status: str
    at: datetime.datetime
    assignee_name: str | None
    team_name: str | None


@dataclass(frozen=True)
class Sla:
    at_risk: int
    breached: int
    worst_at_risk: list[TicketLine]
    worst_breached: list[TicketLine]


@dataclass(frozen=True)
class AgentLoad:
    id: int
    name: str
    open_tickets: int
    load: int
    capacity: int | None
    by_priority: dict[str, int]

    @property
    def full(self) -> bool:
        return self.capacity is not None and self.load >= self.capacity


@dataclass(frozen=True)
class HourBucket:
    start: datetime.datetime  # aware, in the viewer's zone
    created: int
    solved: int

    @property
    def label(self) -> str:
        return self.start.strftime("%H:%M")


@dataclass(frozen=True)
class Escalation:
    ticket_id: int
    subject: str
    level: str
    reason: str
    at: datetime.datetime


@dataclass(frozen=True)
class Today:
    start: datetime.datetime
    end: datetime.datetime
    hours: list[HourBucket]
    escalations: int
    recent_escalations: list[Escalation]

    @property
    def created(self) -> int:
        return sum(h.created for h in self.hours)

    @property
    def solved(self) -> int:
        return sum(h.solved for h in self.hours)


@dataclass(frozen=True)
class Operations:
    now: datetime.datetime
    backlog: Backlog
    sla: Sla
    waiting: list[TicketLine]
    agents: list[AgentLoad]
    today: Today
    teams: dict[int, str] = field(default_factory=dict)


def backlog() -> tuple[Backlog, dict[int, str]]:
    """The unsolved tickets counted by status, team and priority, and the unassigned ones (two
    queries: one GROUP BY, a row per status, team and priority present, and the team names)."""
    rows = (
        Ticket.objects.filter(status__in=_UNSOLVED)
        .order_by()
        .values_list("status", "team_id", "priority")
        .annotate(n=Count("pk"), unassigned=Count("pk", filter=Q(assignee__isnull=True)))
    )
    statuses: Counter[str] = Counter()
    teams: Counter[int | None] = Counter()
    priorities: Counter[str] = Counter()
    unassigned = 0
    for status, team_id, priority, n, without_agent in rows:
        statuses[status] += n
        teams[team_id] += n
        priorities[priority] += n
        unassigned += without_agent
    names = dict(Team.objects.order_by().values_list("pk", "name"))
    by_team = sorted(
        (GroupCount(team_id, names.get(team_id, "(deleted team)"), n) for team_id, n in teams.items() if team_id),
        key=lambda c: (-c.count, c.label),
    )
    if teams.get(None):
        by_team.append(GroupCount(None, "No team", teams[None]))
    return (
        Backlog(
            total=sum(statuses.values()),
            unassigned=unassigned,
            by_status=[GroupCount(s.value, str(s.label), statuses[s.value]) for s in BACKLOG_STATUSES],
            # Most urgent first, as a manager reads them.
            by_priority=[GroupCount(p.value, str(p.label), priorities[p.value]) for p in reversed(Priority)],
            by_team=by_team,
        ),
        names,
    )


def _lines(tickets: QuerySet[Any, dict[str, Any]], at: str) -> list[TicketLine]:
    return [
        TicketLine(
            id=row["pk"],
            subject=row["subject"],
            priority=row["priority"],
            status=row["status"],
            at=row[at],
            assignee_name=row["assignee__name"],
            team_name=row["team__name"],
        )
        for row in tickets
    ]


_LINE_FIELDS = ("pk", "subject", "priority", "status", "assignee__name", "team__name")


def sla(now: datetime.datetime) -> Sla:
    """Running SLA targets due within the hour, and those already breached, with the worst few of
    each: the breached longest ago first, then the soonest due (three queries)."""
    running = Ticket.objects.filter(status__in=_UNSOLVED, sla_next_breach_at__isnull=False).order_by()
    soon = now + AT_RISK_WINDOW
    counts = running.filter(sla_next_breach_at__lte=soon).aggregate(
        breached=Count("pk", filter=Q(sla_next_breach_at__lte=now)),
        at_risk=Count("pk", filter=Q(sla_next_breach_at__gt=now)),
    )
    order = ("sla_next_breach_at", "id")
    breached = running.filter(sla_next_breach_at__lte=now).order_by(*order)
    at_risk = running.filter(sla_next_breach_at__gt=now, sla_next_breach_at__lte=soon).order_by(*order)
    return Sla(
        at_risk=counts["at_risk"],
        breached=counts["breached"],
        worst_breached=_lines(breached.values(*_LINE_FIELDS, "sla_next_breach_at")[:LIST_SIZE], "sla_next_breach_at"),
        worst_at_risk=_lines(at_risk.values(*_LINE_FIELDS, "sla_next_breach_at")[:LIST_SIZE], "sla_next_breach_at"),
    )


def oldest_waiting(limit: int = LIST_SIZE) -> list[TicketLine]:
    """The tickets whose customer has waited longest for an agent's reply, longest first (one
    query; see the module docstring for the definition)."""
    messages = Message.objects.filter(ticket_id=OuterRef("pk"), public=True).order_by()
    # An agent's message that opened the ticket (a phone call written down) is not a reply: the
    # metrics engine skips it too (analytics.metrics, "opening").
    last_reply = (
        messages.filter(author_user__isnull=False, created_at__gt=OuterRef("created_at"))
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )
    first_unanswered = (
        messages.filter(author_customer__isnull=False, created_at__gt=OuterRef("last_reply"))
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )
    waiting = (
        Ticket.objects.filter(status__in=[str(s) for s in WAITING_STATUSES])
        .annotate(last_reply=Subquery(last_reply, output_field=DateTimeField()))
        .annotate(
            waiting_since=Case(
                # Never answered publicly: the customer has waited since the ticket was created.
                When(last_reply__isnull=True, then=F("created_at")),
                # Answered: from their first message after the answer; none (NULL) means the
                # latest word is the agent's, and the ticket is left out below.
                default=Subquery(first_unanswered, output_field=DateTimeField()),
                output_field=DateTimeField(),
            )
        )
        .filter(waiting_since__isnull=False)
        .order_by("waiting_since", "id")
    )
    return _lines(waiting.values(*_LINE_FIELDS, "waiting_since")[:limit], "waiting_since")


def agents() -> list[AgentLoad]:
    """Agents online with their open work (two queries).

    The count is routing's (``routing_service._loads``: unsolved tickets per assignee and
    priority, weighed by ``routing.weighted_load``), taken for every online agent at once:
    ``_loads`` is per team and private, so calling it per team would cost a query per team. When
    routing_service can change, one shared ``open_work(agent_ids)`` should serve both."""
    online = list(
        User.objects.filter(role__in=AGENT_ROLES, is_active=True, availability=Availability.ONLINE)
        .order_by("name", "id")
        .only("pk", "name", "email", "capacity")
    )
    counts: dict[int, dict[str, int]] = {}
    rows = (
        Ticket.objects.filter(assignee_id__in=[u.pk for u in online], status__in=_UNSOLVED)
        .order_by()
        .values_list("assignee_id", "priority")
        .annotate(n=Count("pk"))
    )
    for assignee_id, priority, n in rows:
        counts.setdefault(assignee_id, {})[priority] = n
    return [
        AgentLoad(
            id=u.pk,
            name=u.name or u.email,
            open_tickets=sum(counts.get(u.pk, {}).values()),
            load=routing.weighted_load(counts.get(u.pk, {})),
            capacity=u.capacity,
            by_priority=counts.get(u.pk, {}),
        )
        for u in online
    ]


def day_bounds(now: datetime.datetime, zone: zoneinfo.ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
    """The viewer's today: local midnight to the next local midnight (23 or 25 hours on the days
    the clocks change)."""
    local = now.astimezone(zone)
    start = datetime.datetime.combine(local.date(), datetime.time(), tzinfo=zone)
    end = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=zone)
    return start, end


def _hour_starts(start: datetime.datetime, end: datetime.datetime, zone: zoneinfo.ZoneInfo) -> list[datetime.datetime]:
    """Every hour of the day, stepping in UTC so a 23- or 25-hour day has 23 or 25 buckets."""
    hours = []
    at = start.astimezone(datetime.UTC)
    stop = end.astimezone(datetime.UTC)
    while at < stop:
        hours.append(at.astimezone(zone))
        at += datetime.timedelta(hours=1)
    return hours


def _per_hour(qs: QuerySet[Any], column: str, zone: zoneinfo.ZoneInfo) -> Counter[datetime.datetime]:
    """Rows counted per local hour, keyed by the hour's start as an instant."""
    rows = (
        qs.order_by()
        .annotate(hour=TruncHour(column, tzinfo=zone))
        .values("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )
    counted: Counter[datetime.datetime] = Counter()
    for hour, n in rows:
        counted[hour.astimezone(datetime.UTC)] += n
    return counted


def today(now: datetime.datetime, zone: zoneinfo.ZoneInfo) -> Today:
    """Created and solved per hour of the viewer's today, and today's escalations (four queries)."""
    start, end = day_bounds(now, zone)
    created = _per_hour(Ticket.objects.filter(created_at__gte=start, created_at__lt=end), "created_at", zone)
    events = TicketEvent.objects.filter(created_at__gte=start, created_at__lt=end)
    solved = _per_hour(events.filter(field="status", new=Status.SOLVED.value), "created_at", zone)
    ups = events.filter(field="escalation", new__direction="up")
    recent = ups.order_by("-created_at", "-id").values_list("ticket_id", "ticket__subject", "new", "created_at")[
        :LIST_SIZE
    ]
    hours = []
    for hour in _hour_starts(start, end, zone):
        key = hour.astimezone(datetime.UTC)
        hours.append(HourBucket(start=hour, created=created[key], solved=solved[key]))
    return Today(
        start=start,
        end=end,
        hours=hours,
        escalations=ups.order_by().count(),
        recent_escalations=[
            Escalation(
                ticket_id=ticket_id,
                subject=subject,
                level=str((new or {}).get("level") or "tier 1"),
                reason=str((new or {}).get("reason") or ""),
                at=at,
            )
            for ticket_id, subject, new, at in recent
        ],
    )


def operations(*, zone: zoneinfo.ZoneInfo, now: datetime.datetime | None = None) -> Operations:
    """Everything the page shows, in a fixed number of queries."""
    now = now or timezone.now()
    counts, teams = backlog()
    return Operations(
        now=now,
        backlog=counts,
        sla=sla(now),
        waiting=oldest_waiting(),
        agents=agents(),
        today=today(now, zone),
        teams=teams,
    )
