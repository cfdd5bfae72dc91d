"""Who may see and do what with tickets. Every entry point (API, pages, CLI) asks here, and the
actions enforce the same rules, so a permission cannot be forgotten in one place.

- admin, manager, agent: every ticket; everything.
- collaborator: tickets they are assigned to or follow; read them (internal notes included) and
  add internal notes; nothing else.
- customer: tickets they requested or are CC'd on, plus their organization's when the
  organization shares tickets; never internal notes; reply publicly and create tickets.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Role, User
from deskpilot.core.errors import NotFound, NotPermitted
from deskpilot.customers.models import Customer
from deskpilot.tickets.models import Status, Ticket


def customer_of(user: User) -> Customer | None:
    if user.role != Role.CUSTOMER:
        return None
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def visible_tickets(user: User, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.all() if queryset is None else queryset
    if not user.is_active:
        return qs.none()
    if user.role in AGENT_ROLES:
        return qs
    if user.role == Role.COLLABORATOR:
        following = Ticket.followers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        return qs.filter(Q(assignee_id=user.pk) | Exists(following))
    customer = customer_of(user)
    if customer is None:
        return qs.none()
    cc = Ticket.ccs.through.objects.filter(ticket_id=OuterRef("pk"), customer_id=customer.pk)
    condition: Q = Q(requester_id=customer.pk) | Q(Exists(cc))
    if customer.organization_id and customer.organization and customer.organization.shared_tickets:
        condition |= Q(organization_id=customer.organization_id)
    return qs.filter(condition)


def can_view(user: User, ticket: Ticket) -> bool:
    return visible_tickets(user, Ticket.objects.filter(pk=ticket.pk)).exists()


def get_visible_ticket(user: User, ticket_id: int, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket, or NotFound: others' tickets are indistinguishable from missing ones."""
    ticket = visible_tickets(user, queryset).filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def sees_internal(user: User) -> bool:
    """Internal notes and the full event history are for staff only."""
    return user.is_active and user.role in STAFF_ROLES


def require_can_update(user: User, ticket: Ticket) -> None:
    if user.role not in AGENT_ROLES:
        raise NotPermitted("only agents, managers and admins can change tickets")


def require_can_add_message(user: User, ticket: Ticket, *, public: bool) -> None:
    if user.role == Role.COLLABORATOR and public:
        raise NotPermitted("collaborators can add internal notes only")
    if user.role == Role.CUSTOMER and not public:
        raise NotPermitted("customers cannot add internal notes")
    if user.role not in STAFF_ROLES and user.role != Role.CUSTOMER:
        raise NotPermitted("not allowed to write on tickets")


def require_can_create(user: User) -> None:
    if user.role == Role.COLLABORATOR:
        raise NotPermitted("collaborators cannot create tickets")


def require_agent(user: User) -> None:
    if user.role not in AGENT_ROLES:
        raise NotPermitted("only agents, managers and admins can do this")


def is_open_for_changes(ticket: Ticket) -> bool:
    return ticket.status != Status.CLOSED
