"""Read paths of the customer portal. They build on tickets.permissions.visible_tickets, so the
portal can never list a ticket the API would hide. (Candidates to move into tickets/queries.py.)"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from deskpilot.accounts.models import User
from deskpilot.core.api_support import Ordering, keyset_page
from deskpilot.customers.models import Customer
from deskpilot.tickets import permissions
from deskpilot.tickets.models import UNSOLVED, LinkKind, Status, Ticket, TicketLink

PAGE_SIZE = 25
# Newest request first: the ticket number is the primary key, so a page is an index range scan
# on (requester, id) or (organization, id) whatever the number of tickets.
NEWEST_FIRST = Ordering(column="id", descending=True)

# The portal's two lists: the customer's own requests (requested or CC'd) and, when their
# organization shares tickets, the organization's.
SCOPES = ("mine", "organization")
# Customers think in "still open" and "done"; pending and on hold are still open to them.
STATES = {
    "all": (),
    "open": tuple(sorted(UNSOLVED)),
    "solved": (Status.SOLVED, Status.CLOSED),
}

# What a customer reads for each status (DOMAIN.md): on hold is the team's business (waiting
# on a third party), so the customer sees an open request; pending means the team is waiting
# for them. The second value is the badge's colour class.
CUSTOMER_STATUS = {
    Status.NEW: ("Open", "status--open"),
    Status.OPEN: ("Open", "status--open"),
    Status.ON_HOLD: ("Open", "status--open"),
    Status.PENDING: ("Awaiting your reply", "status--pending"),
    Status.SOLVED: ("Solved", "status--solved"),
    Status.CLOSED: ("Closed", "status--closed"),
}

# Links a customer may follow: where a conversation went on (follow-up, merge). Related,
# split and duplicate links are how the team organises its work.
CUSTOMER_LINK_KINDS = (LinkKind.FOLLOW_UP, LinkKind.MERGED_INTO)


def customer_status(status: str) -> tuple[str, str]:
    return CUSTOMER_STATUS.get(status, ("Open", "status--open"))  # type: ignore[call-overload]


def shares_tickets(customer: Customer | None) -> bool:
    return bool(
        customer and customer.organization_id and customer.organization and customer.organization.shared_tickets
    )


def _scoped(user: User, customer: Customer, scope: str) -> QuerySet[Ticket]:
    qs = permissions.visible_tickets(user)
    if scope == "organization" and customer.organization_id is not None and shares_tickets(customer):
        return qs.filter(organization_id=customer.organization_id)
    cc = Ticket.ccs.through.objects.filter(customer_id=customer.pk).values("ticket_id")
    # An IN over the CC table (not EXISTS per row) lets the database use the requester index
    # for one side of the OR and the primary key for the other.
    return qs.filter(Q(requester_id=customer.pk) | Q(pk__in=cc))


@dataclass
class PortalPage:
    tickets: list[Ticket]
    next_cursor: str | None


def portal_tickets(user: User, *, scope: str, state: str, cursor: str | None, limit: int = PAGE_SIZE) -> PortalPage:
    """One page of the customer's tickets, newest first. Raises InvalidInput for a bad cursor."""
    customer = permissions.customer_of(user)
    if customer is None:
        return PortalPage(tickets=[], next_cursor=None)
    qs = _scoped(user, customer, scope).select_related("requester")
    statuses = STATES.get(state, ())
    if statuses:
        qs = qs.filter(status__in=statuses)
    rows, next_cursor = keyset_page(qs, ordering=NEWEST_FIRST, cursor=cursor, limit=limit)
    return PortalPage(tickets=rows, next_cursor=next_cursor)


@dataclass(frozen=True)
class VisibleLink:
    label: str
    ticket: Ticket


def visible_links(user: User, ticket: Ticket, links: list[TicketLink]) -> list[VisibleLink]:
    """The ticket's follow-up and merge links whose other end the customer may open, worded from
    this ticket's side ("Continued in #12", "Follow-up to #9"). One query for the visibility."""
    wanted = [link for link in links if link.kind in CUSTOMER_LINK_KINDS]
    others = {(link.target if link.source_id == ticket.pk else link.source).pk for link in wanted}
    if not others:
        return []
    visible = set(permissions.visible_tickets(user).filter(pk__in=others).values_list("pk", flat=True))
    shown = []
    for link in wanted:
        outgoing = link.source_id == ticket.pk
        other = link.target if outgoing else link.source
        if other.pk not in visible:
            continue
        if link.kind == LinkKind.FOLLOW_UP:
            label = "Follow-up to" if outgoing else "Continued in"
        else:
            label = "Merged into" if outgoing else "Merged from"
        shown.append(VisibleLink(label=label, ticket=other))
    return shown
