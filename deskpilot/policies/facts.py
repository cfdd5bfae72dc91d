"""From a ticket's events to the facts the SLA clock reads (``policies.clock``).

TicketEvent is the single source for SLA clocks (ARCHITECTURE.md); this is the one place that
decides which events matter to the clock and what they mean: the created event (with who created
the ticket), status, priority and team changes, and public messages by who wrote them (DOMAIN.md,
"Who counts as whom": a public message by an agent, manager or admin is a reply; a public message
by the requester or a CC'd customer is a customer message; internal notes and system messages are
neither).
"""

from __future__ import annotations

from collections.abc import Iterable

from deskpilot.accounts.models import AGENT_ROLES
from deskpilot.policies.clock import Fact
from deskpilot.tickets.models import TicketEvent

_AGENT_ROLE_NAMES = frozenset(str(role) for role in AGENT_ROLES)
_FIELDS = ("created", "status", "priority", "team", "message")


def facts_from_events(events: Iterable[TicketEvent]) -> list[Fact]:
    """The clock's facts, in the events' order (by time, then as the actions wrote them: a reply
    that reopens a ticket is its message, then its status change)."""
    facts: list[Fact] = []
    for event in events:
        at, new = event.created_at, event.new
        if event.field == "created":
            initial = new if isinstance(new, dict) else {}
            facts.append(
                Fact(
                    at=at,
                    kind="created",
                    status=initial.get("status"),
                    priority=initial.get("priority"),
                    team=initial.get("team"),
                    by_customer=event.actor_customer_id is not None,
                )
            )
        elif event.field == "status":
            facts.append(Fact(at=at, kind="status", status=new))
        elif event.field == "priority":
            facts.append(Fact(at=at, kind="priority", priority=new))
        elif event.field == "team":
            facts.append(Fact(at=at, kind="team", team=new))
        elif event.field == "message" and isinstance(new, dict) and new.get("public"):
            role = new.get("author_role")
            if role == "customer":
                facts.append(Fact(at=at, kind="customer_message", by_customer=True))
            elif role in _AGENT_ROLE_NAMES:
                facts.append(Fact(at=at, kind="public_reply_by_agent"))
    return facts


def facts_for(ticket_id: int) -> list[Fact]:
    """The facts of one ticket, read in one query."""
    events = (
        TicketEvent.objects.filter(ticket_id=ticket_id, field__in=_FIELDS)
        .only("field", "new", "created_at", "actor_customer_id")
        .order_by("created_at", "id")
    )
    return facts_from_events(events)
