"""Read paths for tickets, used by the API and the pages. Related rows are fetched here, once,
so every list costs the same few queries whatever its length."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from deskpilot.accounts.models import User
from deskpilot.core import search
from deskpilot.core.api_support import Ordering, keyset_page
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import CustomerEmail
from deskpilot.tickets import permissions
from deskpilot.tickets.models import (
    Attachment,
    Channel,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTag,
    TicketType,
)

SORTABLE = ("id", "created_at", "updated_at")
# Event fields a customer may see in a ticket's history; the rest (assignments, tags, internal
# notes, links) is the team's business.
CUSTOMER_EVENT_FIELDS = frozenset({"created", "status", "message"})


@dataclass
class TicketFilters:
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    assignee: str | None = None  # a user id, "me" or "none"
    team: str | None = None  # a team id or "none"
    requester: int | None = None
    organization: int | None = None
    tags: list[str] = field(default_factory=list)
    created_after: datetime.datetime | None = None
    created_before: datetime.datetime | None = None
    updated_after: datetime.datetime | None = None
    updated_before: datetime.datetime | None = None
    q: str | None = None


def _choices(field_name: str, values: list[str], allowed: type[Status | Priority | TicketType | Channel]) -> list[str]:
    valid = {c.value for c in allowed}
    bad = [v for v in values if v not in valid]
    if bad:
        raise InvalidInput(field_name, f"{bad[0]!r} is not one of: {', '.join(sorted(valid))}")
    return values


def _id_or_keyword(field_name: str, value: str, keywords: set[str]) -> int | str:
    if value in keywords:
        return value
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field_name, f"must be an id or one of: {', '.join(sorted(keywords))}") from None


def list_base(user: User) -> QuerySet[Ticket]:
    return permissions.visible_tickets(user).select_related("requester", "organization", "team", "assignee")


def with_list_relations(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return qs.prefetch_related(
        Prefetch("tags"),
        Prefetch("requester__emails", queryset=CustomerEmail.objects.order_by("-is_primary", "id")),
    )


def filter_tickets(user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    qs = list_base(user)
    if filters.statuses:
        qs = qs.filter(status__in=_choices("status", filters.statuses, Status))
    if filters.priorities:
        qs = qs.filter(priority__in=_choices("priority", filters.priorities, Priority))
    if filters.types:
        qs = qs.filter(type__in=_choices("type", filters.types, TicketType))
    if filters.channels:
        qs = qs.filter(channel__in=_choices("channel", filters.channels, Channel))
    if filters.assignee is not None:
        assignee = _id_or_keyword("assignee", filters.assignee, {"me", "none"})
        if assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        else:
            qs = qs.filter(assignee_id=user.pk if assignee == "me" else int(assignee))
    if filters.team is not None:
        team = _id_or_keyword("team", filters.team, {"none"})
        qs = qs.filter(team__isnull=True) if team == "none" else qs.filter(team_id=team)
    if filters.requester is not None:
        qs = qs.filter(requester_id=filters.requester)
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    for tag in filters.tags:
        # Fix: normalised as tags are when stored (actions.clean_tag: "Billing issue" is
        # billing-issue); lower() alone never found tags written with spaces.
        name = "-".join(tag.strip().lower().split())
        qs = qs.filter(Exists(TicketTag.objects.filter(ticket_id=OuterRef("pk"), tag__name=name)))
    for name, lookup in (
        ("created_after", "created_at__gte"),
        ("created_before", "created_at__lt"),
        ("updated_after", "updated_at__gte"),
        ("updated_before", "updated_at__lt"),
    ):
        value = getattr(filters, name)
        if value is not None:
            if value.tzinfo is None:
                raise InvalidInput(name, "must include a time zone offset (e.g. 2026-01-31T09:00:00Z)")
            qs = qs.filter(**{lookup: value})
    if filters.q is not None:
        if not filters.q.strip():
            raise InvalidInput("q", "must not be empty")
        matching = search.matching_ids(filters.q, include_internal=permissions.sees_internal(user))
        qs = qs.filter(pk__in=matching) if matching is not None else qs.none()
    return qs


def ticket_page(
    user: User, filters: TicketFilters, *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    qs = filter_tickets(user, filters)
    rows, next_cursor = keyset_page(qs, ordering=ordering, cursor=cursor, limit=limit)
    # Prefetch for the page only, so the relations cost one query each whatever the page size.
    if rows:
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(
            rows,
            "tags",
            Prefetch("requester__emails", queryset=CustomerEmail.objects.order_by("-is_primary", "id")),
        )
    return rows, next_cursor


@dataclass
class TicketDetail:
    ticket: Ticket
    messages: list[Message]
    links: list[TicketLink]
    show_internal: bool


def ticket_detail(user: User, ticket_id: int) -> TicketDetail:
    qs = with_list_relations(list_base(user)).prefetch_related("ccs__emails")
    show_internal = permissions.sees_internal(user)
    if show_internal:
        qs = qs.prefetch_related("followers")
    ticket = permissions.get_visible_ticket(user, ticket_id, qs)
    messages = ticket_messages(ticket, show_internal=show_internal)
    # Fix: one query with both ends joined. OR-ing two querysets kept only the first one's
    # select_related, so every incoming link cost a query for its source ticket (N+1).
    links = list(
        TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket))
        .select_related("source", "target")
        .order_by("created_at", "id")
    )
    return TicketDetail(ticket=ticket, messages=messages, links=links, show_internal=show_internal)


def ticket_messages(ticket: Ticket, *, show_internal: bool) -> list[Message]:
    qs = Message.objects.filter(ticket=ticket).select_related("author_user", "author_customer")
    if not show_internal:
        qs = qs.filter(public=True)
    return list(qs.prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id"))))


def ticket_events(user: User, ticket: Ticket) -> list[TicketEvent]:
    qs = TicketEvent.objects.filter(ticket=ticket).select_related("actor_user", "actor_customer", "message")
    if not permissions.sees_internal(user):
        qs = qs.filter(field__in=CUSTOMER_EVENT_FIELDS)
        return [e for e in qs if e.field != "message" or (e.new or {}).get("public")]
    return list(qs)


def visible_attachment(user: User, attachment_id: int) -> Attachment | None:
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None:
        return None
    if not attachment.message.public and not permissions.sees_internal(user):
        return None
    if not permissions.visible_tickets(user).filter(pk=attachment.message.ticket_id).exists():
        return None
    return attachment
