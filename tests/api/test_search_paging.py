"""Search results page by page: the newest-first walk over the search index (SQLite) must give
exactly the rows, order and cursors of the general path (``id IN (every match)``), whatever
other filters come with ``q``, and must never show a customer what only internal notes say."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from deskpilot.accounts.models import Role
from deskpilot.core import search
from deskpilot.core.api_support import keyset_page, parse_ordering
from deskpilot.tickets import actions, queries
from deskpilot.tickets.models import Status, Via
from tests import factories
from tests.api.conftest import Api, caller

pytestmark = pytest.mark.django_db
SQLITE_ONLY = pytest.mark.skipif(connection.vendor != "sqlite", reason="the newest-first walk is SQLite's")


@pytest.fixture
def world() -> dict[str, Any]:
    """40 tickets; most say "kettle" publicly, some only in an internal note, some not at all;
    statuses and teams vary so that other filters drop matches between and inside chunks."""
    agent = factories.user(Role.AGENT)
    teams = [factories.team(members=[agent]) for _ in range(2)]
    customer_user = factories.customer_user()
    requester = customer_user.customer
    statuses = [Status.NEW, Status.OPEN, Status.PENDING, Status.SOLVED]
    for i in range(40):
        kettle_in_public = i % 5 != 0
        ticket = factories.ticket(
            requester=requester,
            actor=agent,
            team=teams[i % 3 % 2],
            status=statuses[i % 4],
            subject=f"Ticket {i}",
            body_text=f"the kettle number {i} is broken" if kettle_in_public else f"the toaster number {i}",
        )
        if i % 5 == 0 and i % 10:
            actions.add_message(ticket, actor=agent, via=Via.WEB, public=False, body_text="internal kettle note")
    return {"agent": agent, "teams": teams, "customer_user": customer_user}


def reference_ids(user: Any, filters: queries.TicketFilters, limit: int) -> list[list[int]]:
    """Every page of the general path: keyset paging over ``pk IN (matches)``."""
    ordering = parse_ordering("-id", queries.SORTABLE)
    pages, cursor = [], None
    while True:
        rows, cursor = keyset_page(queries.filter_tickets(user, filters), ordering=ordering, cursor=cursor, limit=limit)
        pages.append([t.pk for t in rows])
        if cursor is None:
            return pages


def walked_ids(user: Any, filters: queries.TicketFilters, limit: int) -> list[list[int]]:
    ordering = parse_ordering("-id", queries.SORTABLE)
    pages, cursor = [], None
    while True:
        rows, cursor = queries.ticket_page(user, filters, ordering=ordering, cursor=cursor, limit=limit)
        pages.append([t.pk for t in rows])
        if cursor is None:
            return pages


@SQLITE_ONLY
@pytest.mark.parametrize("chunks", [(100, 1_000, 10_000), (2, 3, 4), (1, 1, 1)])
@pytest.mark.parametrize(
    "filters",
    [
        {"q": "kettle"},
        {"q": "kettle", "statuses": ["open"]},
        {"q": "kettle", "statuses": ["solved", "new"], "team": "first"},
        {"q": "kettle -broken"},
        {"q": "broken kettle"},
        {"q": "nothing-matches-this"},
        {"q": "-kettle"},
    ],
)
def test_same_pages_as_the_general_path(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, chunks: tuple[int, ...], filters: dict[str, Any]
) -> None:
    monkeypatch.setattr(queries, "SEARCH_CHUNKS", chunks)
    if filters.get("team") == "first":
        filters = {**filters, "team": str(world["teams"][0].pk)}
    for user in (world["agent"], world["customer_user"]):
        for limit in (1, 3, 10, 100):
            wanted = reference_ids(user, queries.TicketFilters(**filters), limit)
            assert walked_ids(user, queries.TicketFilters(**filters), limit) == wanted
            ids = [pk for page in wanted for pk in page]
            assert ids == sorted(ids, reverse=True)


@SQLITE_ONLY
def test_customers_find_only_public_text(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "SEARCH_CHUNKS", (2, 3, 4))
    customer_user = world["customer_user"]
    api = Api(factories.token(customer_user), user=customer_user)
    staff = caller(Role.AGENT)

    def all_subjects(caller_api: Api, q: str) -> list[str]:
        subjects, params = [], {"q": q, "limit": 3}
        while True:
            body = caller_api.get("/tickets", params).json()
            subjects += [t["subject"] for t in body["items"]]
            if body["next_cursor"] is None:
                return subjects
            params["cursor"] = body["next_cursor"]

    internal_only = {f"Ticket {i}" for i in range(40) if i % 5 == 0 and i % 10}
    assert internal_only <= set(all_subjects(staff, "kettle"))
    assert not internal_only & set(all_subjects(api, "kettle"))
    assert set(all_subjects(api, "internal")) == set()
    assert set(all_subjects(staff, "internal")) == internal_only


@SQLITE_ONLY
def test_reads_no_more_matches_than_a_page_needs(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []
    original = search.newest_matching_ids

    def spy(query: str, **kwargs: Any) -> list[int]:
        asked.append(kwargs["limit"])
        return original(query, **kwargs)

    monkeypatch.setattr(search, "newest_matching_ids", spy)
    monkeypatch.setattr(queries, "SEARCH_CHUNKS", (5, 50))
    ordering = parse_ordering("-id", queries.SORTABLE)
    rows, cursor = queries.ticket_page(
        world["agent"], queries.TicketFilters(q="kettle"), ordering=ordering, cursor=None, limit=3
    )
    assert len(rows) == 3
    assert cursor is not None
    assert asked == [5]


@pytest.mark.parametrize("sort", ["-id", "id", "-updated_at", "created_at"])
@pytest.mark.parametrize(
    "filters",
    [{}, {"statuses": ["open"]}, {"statuses": ["solved", "new"], "team": "first"}, {"q": "kettle"}],
)
def test_list_pages_as_keyset_page(world: dict[str, Any], sort: str, filters: dict[str, Any]) -> None:
    """The list picks its page's ids in a subquery; pages and cursors are keyset_page's."""
    if filters.get("team") == "first":
        filters = {**filters, "team": str(world["teams"][0].pk)}
    ordering = parse_ordering(sort, queries.SORTABLE)
    for user in (world["agent"], world["customer_user"]):
        for limit in (1, 7, 100):
            expected, got = [], []
            cursors: list[str | None] = [None, None]
            while True:
                rows, cursors[0] = keyset_page(
                    queries.filter_tickets(user, queries.TicketFilters(**filters)),
                    ordering=ordering,
                    cursor=cursors[0],
                    limit=limit,
                )
                expected.append([t.pk for t in rows])
                if cursors[0] is None:
                    break
            while True:
                rows, cursors[1] = queries.ticket_page(
                    user, queries.TicketFilters(**filters), ordering=ordering, cursor=cursors[1], limit=limit
                )
                got.append([t.pk for t in rows])
                if cursors[1] is None:
                    break
            assert got == expected
