"""Inbox views: the built-in queues (my open tickets, unassigned, ...), saved views, the inbox's
URL filters and the sidebar's capped counts.

The URL filters and a saved view's stored filters are one format (``status``, ``priority``,
``team``, ``assignee``, ``tag``, and for saved views ``view``, the queue they narrow), validated
by the same code: ``clean_filters`` here, then ``queries.filter_tickets`` (InvalidInput on bad
values). The read paths (``queue_page``, ``capped_count``) could move to ``queries.py``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Role, Team, User
from deskpilot.core.api_support import Ordering, keyset_page, parse_ordering
from deskpilot.core.errors import InvalidInput, NotFound, NotPermitted
from deskpilot.tickets import queries
from deskpilot.tickets.models import UNSOLVED, SavedView, Status, Ticket

PAGE_SIZE = 50
# Sidebar counts stop here ("1,000+"): counting a million-row queue on every page view would
# cost more than the page itself.
COUNT_CAP = 1000
NAME_MAX = 80
RECENTLY_SOLVED_DAYS = 7

# Query-string keys of the inbox filters; the repeatable ones are lists.
FILTER_KEYS = ("status", "priority", "team", "assignee", "tag")
LIST_KEYS = frozenset({"status", "priority", "tag"})
SORTS = ("updated_at", "created_at", "id", "sla_next_breach_at")

_UNSOLVED = sorted(str(s) for s in UNSOLVED)


@dataclass(frozen=True)
class Queue:
    """A built-in view: a condition on top of what the viewer may see."""

    slug: str
    label: str
    condition: Callable[[User], Q]
    roles: frozenset[str] = AGENT_ROLES
    # Newest first: the (status | assignee | team, status, id) indexes serve it without a sort.
    # At a million tickets, ordering the ~5,000 unsolved ones by updated_at costs ~90 ms on
    # SQLite; by id, 1 ms. Recently updated stays one click away (sort=-updated_at).
    default_sort: str = "-id"
    sorts: tuple[str, ...] = SORTS


def _recently_solved(user: User) -> Q:
    since = timezone.now() - datetime.timedelta(days=RECENTLY_SOLVED_DAYS)
    return Q(status=Status.SOLVED, solved_at__gte=since)


QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in (
        Queue("my-open", "My open tickets", lambda u: Q(assignee_id=u.pk, status__in=_UNSOLVED)),
        # Collaborators only see tickets assigned to them or that they follow (permissions).
        Queue(
            "following",
            "Assigned to me / following",
            lambda u: Q(status__in=_UNSOLVED),
            roles=frozenset({Role.COLLABORATOR}),
        ),
        Queue("unassigned", "Unassigned", lambda u: Q(assignee__isnull=True, status__in=_UNSOLVED)),
        Queue(
            "my-teams",
            "My teams",
            lambda u: Q(team__in=Team.objects.filter(members=u).values("pk"), status__in=_UNSOLVED),
        ),
        Queue("all-open", "All open", lambda u: Q(status__in=_UNSOLVED)),
        Queue("pending", "Pending", lambda u: Q(status=Status.PENDING)),
        Queue(
            "recently-solved",
            "Recently solved",
            _recently_solved,
            roles=STAFF_ROLES,
            default_sort="-solved_at",
            sorts=("solved_at", *SORTS),
        ),
    )
}


def queues_for(user: User) -> list[Queue]:
    return [q for q in QUEUES.values() if user.role in q.roles]


def default_queue(user: User) -> Queue:
    return QUEUES["following"] if user.role == Role.COLLABORATOR else QUEUES["my-open"]


def get_queue(user: User, slug: str) -> Queue:
    queue = QUEUES.get(slug)
    if queue is None or user.role not in queue.roles:
        raise NotFound(f"no view {slug!r}")
    return queue


# --- filters -----------------------------------------------------------------------------------


def clean_filters(raw: Mapping[str, Any], *, with_view: bool = False) -> dict[str, Any]:
    """The filters in their stored form: known keys only, blanks dropped, lists for the
    repeatable keys. Values are checked by ``ticket_filters`` / ``filter_tickets``."""
    cleaned: dict[str, Any] = {}
    for key in (*FILTER_KEYS, *(("view",) if with_view else ())):
        value = raw.get(key)
        if value is None:
            continue
        values = [value] if isinstance(value, str | int) else list(value)
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            continue
        if key in LIST_KEYS:
            cleaned[key] = list(dict.fromkeys(values))
        elif len(values) > 1:
            raise InvalidInput(key, "give one value")
        else:
            cleaned[key] = values[0]
    if with_view and "view" in cleaned and cleaned["view"] not in QUEUES:
        raise InvalidInput("view", f"{cleaned['view']!r} is not one of: {', '.join(QUEUES)}")
    return cleaned


def filters_from_query(params: Any) -> dict[str, Any]:
    """The filters of a query string (a QueryDict)."""
    return clean_filters({key: params.getlist(key) for key in FILTER_KEYS if key in params})


def ticket_filters(filters: Mapping[str, Any]) -> queries.TicketFilters:
    return queries.TicketFilters(
        statuses=list(filters.get("status", [])),
        priorities=list(filters.get("priority", [])),
        tags=list(filters.get("tag", [])),
        team=filters.get("team"),
        assignee=filters.get("assignee"),
    )


def ordering_for(queue: Queue, sort: str | None) -> Ordering:
    return parse_ordering(sort or queue.default_sort, queue.sorts)


def queue_tickets(user: User, queue: Queue, filters: Mapping[str, Any]) -> QuerySet[Ticket]:
    """What the viewer may see, in the queue, narrowed by the filters (InvalidInput on bad ones)."""
    return queries.filter_tickets(user, ticket_filters(filters)).filter(queue.condition(user))


def _sorted_queue(user: User, queue: Queue, filters: Mapping[str, Any], ordering: Ordering) -> QuerySet[Ticket]:
    tickets = queue_tickets(user, queue, filters)
    if ordering.column == "sla_next_breach_at":
        # Keyset paging needs a value on every row: sorting by the next breach lists the tickets
        # whose SLA clock runs (the partial index ticket_sla_next_breach holds exactly those).
        tickets = tickets.filter(sla_next_breach_at__isnull=False)
    return tickets


def queue_page(
    user: User, queue: Queue, filters: Mapping[str, Any], *, sort: str | None, cursor: str | None
) -> tuple[list[Ticket], str | None]:
    """One page of the queue, keyset-paginated like the API (same cursors), with the list's
    relations fetched once for the page."""
    ordering = ordering_for(queue, sort)
    rows, next_cursor = keyset_page(
        _sorted_queue(user, queue, filters, ordering), ordering=ordering, cursor=cursor, limit=PAGE_SIZE
    )
    queries.attach_list_relations(rows)
    return rows, next_cursor


def capped_count(qs: QuerySet[Any]) -> int:
    """How many rows, counting at most COUNT_CAP + 1: SELECT COUNT(*) FROM (... LIMIT cap + 1)."""
    return qs.order_by().values("pk")[: COUNT_CAP + 1].count()


def count_label(count: int) -> str:
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"


# --- saved views -------------------------------------------------------------------------------


def visible_saved_views(user: User) -> QuerySet[SavedView]:
    """The viewer's own views and the shared ones."""
    if user.role not in STAFF_ROLES or not user.is_active:
        return SavedView.objects.none()
    return SavedView.objects.filter(Q(owner_id=user.pk) | Q(shared=True)).order_by("name", "id")


def get_saved_view(user: User, view_id: int) -> SavedView:
    view = visible_saved_views(user).filter(pk=view_id).first()
    if view is None:
        raise NotFound(f"saved view {view_id} not found")
    return view


def can_edit(user: User, view: SavedView) -> bool:
    return view.owner_id == user.pk or (view.shared and user.role in (Role.ADMIN, Role.MANAGER))


def require_can_edit(user: User, view: SavedView) -> None:
    if not can_edit(user, view):
        raise NotPermitted("only the owner (or, for shared views, a manager or admin) can change this view")


def may_share(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.MANAGER)


def saved_queue(view: SavedView) -> Queue:
    return QUEUES[view.filters.get("view") or "all-open"]


def _clean_name(owner: User, name: str, *, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > NAME_MAX:
        raise InvalidInput("name", f"must be at most {NAME_MAX} characters")
    clash = SavedView.objects.filter(owner=owner, name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise InvalidInput("name", f"you already have a view named {name!r}")
    return name


def _check_shared(user: User, shared: bool) -> None:
    if shared and not may_share(user):
        raise InvalidInput("shared", "only managers and admins can share views")


def validate(user: User, filters: Mapping[str, Any], sort: str | None) -> tuple[dict[str, Any], str]:
    """Stored filters and sort, checked as the inbox would apply them."""
    cleaned = clean_filters(filters, with_view=True)
    queue = QUEUES[cleaned.get("view") or "all-open"]
    ordering = ordering_for(queue, sort)
    # Builds (without running) the query: the same checks as a URL's filters.
    queue_tickets(user, queue, cleaned)
    return cleaned, ("-" if ordering.descending else "") + ordering.column


def create_saved_view(
    user: User, *, name: str, filters: Mapping[str, Any], sort: str | None, shared: bool = False
) -> SavedView:
    if user.role not in STAFF_ROLES:
        raise NotPermitted("only staff have saved views")
    name = _clean_name(user, name)
    _check_shared(user, shared)
    cleaned, sort = validate(user, filters, sort)
    try:
        with transaction.atomic():
            return SavedView.objects.create(owner=user, name=name, filters=cleaned, sort=sort, shared=shared)
    except IntegrityError:  # the same name saved twice at once
        raise InvalidInput("name", f"you already have a view named {name!r}") from None


def update_saved_view(user: User, view: SavedView, *, name: str, shared: bool) -> SavedView:
    require_can_edit(user, view)
    view.name = _clean_name(view.owner, name, exclude=view.pk)
    if shared != view.shared:
        _check_shared(user, shared)
    view.shared = shared
    view.updated_at = timezone.now()
    try:
        with transaction.atomic():
            view.save(update_fields=["name", "shared", "updated_at"])
    except IntegrityError:
        raise InvalidInput("name", f"there is already a view named {view.name!r}") from None
    return view


def delete_saved_view(user: User, view: SavedView) -> None:
    require_can_edit(user, view)
    view.delete()
