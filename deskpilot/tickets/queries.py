"""Read paths for tickets, used by the API and the pages. Related rows are fetched here, once,
so every list costs the same few queries whatever its length."""

from __future__ import annotations

import collections
import dataclasses
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet

from deskpilot.accounts.models import User
from deskpilot.core import search
from deskpilot.core.api_support import Ordering, after_cursor, check_limit, decode_cursor, encode_cursor
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Customer, CustomerEmail
from deskpilot.tickets import permissions
from deskpilot.tickets.models import (
    Attachment,
    Channel,
    Message,
    Priority,
    Status,
    Tag,
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


LIST_RELATED = ("requester", "organization", "team", "assignee")


def list_base(user: User) -> QuerySet[Ticket]:
    return permissions.visible_tickets(user).select_related(*LIST_RELATED)


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
        _check_q(filters.q)
        matching = search.matching_ids(filters.q, include_internal=permissions.sees_internal(user))
        qs = qs.filter(pk__in=matching) if matching is not None else qs.none()
    return qs


def _check_q(q: str) -> None:
    if not q.strip():
        raise InvalidInput("q", "must not be empty")


# Search newest first (see _search_page_newest_first): how many matches each step reads.
SEARCH_CHUNKS = (100, 1_000, 10_000)


def ticket_page(
    user: User, filters: TicketFilters, *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    if filters.q is not None and ordering.column == "id" and ordering.descending and search.walks_newest_first():
        rows, next_cursor = _search_page_newest_first(user, filters, ordering=ordering, cursor=cursor, limit=limit)
    else:
        rows, next_cursor = _keyset_page_by_ids(
            filter_tickets(user, filters), ordering=ordering, cursor=cursor, limit=limit
        )
    # For the page only, so the relations cost one query each whatever the page size.
    attach_list_relations(rows)
    return rows, next_cursor


def _keyset_page_by_ids(
    qs: QuerySet[Ticket], *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """keyset_page, with the page's ids chosen in a subquery of the tickets table alone:
    ``id IN (SELECT id ... ORDER BY ... LIMIT n)``. Without the joins of select_related the
    filters and the order are answered from one index (team, status, id); with them SQLite
    chose by its statistics and could walk a team's every ticket for a rare status (13 ms at a
    million tickets instead of 2). Same rows, order and cursors as keyset_page."""
    check_limit(limit)
    ids = after_cursor(qs, ordering=ordering, cursor=cursor).values("pk")[: limit + 1]
    # The outer query only fetches those rows: every filter (permissions, search) is inside.
    rows = list(Ticket.objects.select_related(*LIST_RELATED).filter(pk__in=ids).order_by(*ordering.order_by))
    next_cursor = encode_cursor(ordering, rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _search_page_newest_first(
    user: User, filters: TicketFilters, *, ordering: Ordering, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """The newest-first page of a search, on a backend that lists matches newest first (SQLite
    FTS5). ``pk IN (every match)`` makes SQLite materialise every match before it can order
    and limit, and a common word matches most tickets (254 ms at a million tickets). Instead the
    matches are read newest first in growing chunks (SEARCH_CHUNKS), each chunk narrowed by the
    other filters, until the page is full; what is left after the last chunk is searched in one
    query, as before. Same rows, same order and same cursors as keyset_page."""
    base = filter_tickets(user, dataclasses.replace(filters, q=None)).order_by(*ordering.order_by)
    assert filters.q is not None
    _check_q(filters.q)
    check_limit(limit)
    below = int(decode_cursor(cursor, ordering)[1]) if cursor else None
    include_internal = permissions.sees_internal(user)
    wanted = limit + 1  # one more than the page, to know whether there is a next page
    rows: list[Ticket] = []
    for size in SEARCH_CHUNKS:
        ids = search.newest_matching_ids(filters.q, include_internal=include_internal, below=below, limit=size)
        if ids:
            # Every id of this chunk is below those of the chunks before: the order holds.
            rows += base.filter(pk__in=ids)[: wanted - len(rows)]
        if len(rows) >= wanted or len(ids) < size:
            break
        below = ids[-1]
    else:
        # Many matches, few of them pass the other filters: the rest in one query.
        matching = search.matching_ids(filters.q, include_internal=include_internal)
        if matching is not None:
            rows += base.filter(pk__lt=below, pk__in=matching)[: wanted - len(rows)]
    next_cursor = encode_cursor(ordering, rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def _remember(instance: Model, name: str, values: list[Any]) -> None:
    """What ``instance.<name>.all()`` returns from now on, as prefetch_related would leave it.
    One plain query per relation for a whole page costs a fraction of prefetch_related's CPU
    (it builds a queryset and a related manager per row), and every reader (the API's schemas,
    templates) keeps reading ``.all()``."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    cache[name] = values


def _attach_emails(customers: Iterable[Customer]) -> None:
    """customer.emails (primary first), for the customers' primary_email."""
    by_id: dict[int, list[Customer]] = collections.defaultdict(list)
    for customer in customers:
        by_id[customer.pk].append(customer)
    if not by_id:
        return
    emails: dict[int, list[CustomerEmail]] = collections.defaultdict(list)
    for email in CustomerEmail.objects.filter(customer_id__in=list(by_id)).order_by("-is_primary", "id"):
        emails[email.customer_id].append(email)
    for pk, same in by_id.items():
        for customer in same:
            _remember(customer, "emails", emails[pk])


def _attach_tags(tickets: list[Ticket]) -> None:
    tags: dict[int, list[Tag]] = collections.defaultdict(list)
    pairs = (
        TicketTag.objects.filter(ticket_id__in=[t.pk for t in tickets])
        .order_by("tag__name")
        .values_list("ticket_id", "tag_id", "tag__name")
    )
    for ticket_id, tag_id, name in pairs:
        tags[ticket_id].append(Tag(id=tag_id, name=name))
    for ticket in tickets:
        _remember(ticket, "tags", tags[ticket.pk])


def attach_list_relations(tickets: list[Ticket], *, more_customers: Iterable[Customer] = ()) -> None:
    """ticket.tags and the requesters' emails (with those of ``more_customers``) for a list of
    tickets: one query each, whatever the number of tickets."""
    if not tickets:
        return
    _attach_tags(tickets)
    _attach_emails([*(t.requester for t in tickets), *more_customers])


@dataclass
class TicketDetail:
    ticket: Ticket
    messages: list[Message]
    links: list[TicketLink]
    show_internal: bool


def ticket_detail(user: User, ticket_id: int) -> TicketDetail:
    show_internal = permissions.sees_internal(user)
    ticket = permissions.get_visible_ticket(user, ticket_id, list_base(user))
    ccs = list(Customer.objects.filter(cc_tickets=ticket).order_by("name", "id"))
    _remember(ticket, "ccs", ccs)
    # The CCs' addresses come with the requester's, in one query.
    attach_list_relations([ticket], more_customers=ccs)
    if show_internal:
        _remember(ticket, "followers", list(User.objects.filter(followed_tickets=ticket)))
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
    messages = list(qs)
    files: dict[int, list[Attachment]] = collections.defaultdict(list)
    if messages:
        for attachment in Attachment.objects.filter(message_id__in=[m.pk for m in messages]).order_by("id"):
            files[attachment.message_id].append(attachment)
    for message in messages:
        _remember(message, "attachments", files[message.pk])
    return messages


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
