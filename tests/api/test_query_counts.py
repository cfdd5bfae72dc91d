"""Query counts of the list and detail endpoints are pinned and do not grow with the data, so an
N+1 cannot creep in. Each test runs with a small and a large data set and expects the same count.

Counts include the token lookup (the last-used stamp is written by a warm-up request first).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import LinkKind, Ticket, Via
from tests import factories
from tests.api.conftest import Api, caller

pytestmark = pytest.mark.django_db

SMALL_LARGE = pytest.mark.parametrize("size", [5, 30])


def warm(api: Api, path: str, params: dict[str, Any] | None = None) -> None:
    response = api.get(path, params)
    assert response.status_code == 200, response.content


def varied_tickets(count: int, **kwargs: Any) -> list[Ticket]:
    """Tickets that differ in every related object a list shows."""
    agents = [factories.user(Role.AGENT) for _ in range(3)]
    teams = [factories.team(members=agents) for _ in range(2)]
    orgs = [factories.organization() for _ in range(2)]
    tickets = []
    for i in range(count):
        requester = kwargs.get("requester") or factories.customer(organization=orgs[i % 2])
        tickets.append(
            factories.ticket(
                requester=requester,
                actor=agents[i % 3],
                team=teams[i % 2],
                assignee=agents[i % 3] if i % 4 else None,
                tags=[f"tag-{i % 5}", "common"],
                organization=orgs[i % 2],
            )
        )
    return tickets


@SMALL_LARGE
def test_ticket_list(size: int, django_assert_num_queries: Any) -> None:
    varied_tickets(size)
    api = caller(Role.AGENT)
    warm(api, "/tickets")
    # token, tickets page, tags, requester emails
    with django_assert_num_queries(4):
        response = api.get("/tickets")
    assert len(response.json()["items"]) == min(size, 25)


@SMALL_LARGE
def test_ticket_list_with_search_and_filters(size: int, django_assert_num_queries: Any) -> None:
    varied_tickets(size)
    api = caller(Role.AGENT)
    params = {"q": "something", "tag": "common", "status": "new,open", "sort": "-updated_at", "limit": 100}
    warm(api, "/tickets", params)
    with django_assert_num_queries(4):
        response = api.get("/tickets", params)
    assert len(response.json()["items"]) == size


@SMALL_LARGE
def test_ticket_search_newest_first(size: int, django_assert_num_queries: Any) -> None:
    varied_tickets(size)
    api = caller(Role.AGENT)
    params = {"q": "something", "status": "new,open"}
    warm(api, "/tickets", params)
    # token, (SQLite: the newest matches from the index,) tickets page, tags, requester emails
    with django_assert_num_queries(5 if connection.vendor == "sqlite" else 4):
        response = api.get("/tickets", params)
    assert len(response.json()["items"]) == min(size, 25)


@SMALL_LARGE
def test_ticket_list_for_a_customer(size: int, django_assert_num_queries: Any) -> None:
    org = factories.organization(shared_tickets=True)
    api = caller(Role.CUSTOMER, organization=org)
    varied_tickets(size, requester=api.user.customer)  # type: ignore[union-attr]
    warm(api, "/tickets")
    # token, the customer record, its organization, tickets page, tags, requester emails
    with django_assert_num_queries(6):
        response = api.get("/tickets", {"limit": 100})
    assert len(response.json()["items"]) == size


@pytest.mark.parametrize("messages", [2, 20])
def test_ticket_detail(messages: int, django_assert_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket(actor=agent, tags=["a", "b"], ccs=[factories.customer(), factories.customer()])
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [agent, collaborator]})
    authors: list[actions.Actor] = [agent, collaborator, ticket.requester]
    for i in range(messages - 1):
        actions.add_message(
            ticket,
            actor=authors[i % 3],
            via=Via.WEB,
            body_text=f"message {i}",
            public=i % 3 != 1,
            attachments=[IncomingFile(filename=f"f{i}.txt", content=f"file {i}".encode())],
        )
    for i in range(messages // 2):
        other = factories.ticket()
        if i % 2:
            actions.link_tickets(ticket, other, actor=agent, via=Via.WEB)
        else:
            actions.link_tickets(other, ticket, actor=agent, via=Via.WEB, kind=LinkKind.DUPLICATE_OF)
    api = Api(factories.token(agent), user=agent)
    warm(api, f"/tickets/{ticket.pk}")
    # token, ticket, ccs, tags, requester and cc emails, followers, messages, attachments, links
    with django_assert_num_queries(9):
        response = api.get(f"/tickets/{ticket.pk}")
    body = response.json()
    assert len(body["messages"]) == messages
    assert len(body["links"]) == messages // 2


@pytest.mark.parametrize("messages", [2, 20])
def test_ticket_detail_for_a_customer(messages: int, django_assert_num_queries: Any) -> None:
    api = caller(Role.CUSTOMER)
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(requester=api.user.customer)  # type: ignore[union-attr]
    for i in range(messages - 1):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text=f"reply {i}", public=i % 2 == 0)
    warm(api, f"/tickets/{ticket.pk}")
    # token, customer, ticket, ccs, tags, requester emails, messages, attachments, links
    with django_assert_num_queries(9):
        response = api.get(f"/tickets/{ticket.pk}")
    assert all(m["public"] for m in response.json()["messages"])


@pytest.mark.parametrize("changes", [2, 20])
def test_ticket_events(changes: int, django_assert_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    for i in range(changes):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": ["low", "high"][i % 2]})
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text=f"more {i}")
    api = Api(factories.token(agent), user=agent)
    warm(api, f"/tickets/{ticket.pk}/events")
    # token, ticket, events with actors and messages
    with django_assert_num_queries(3):
        response = api.get(f"/tickets/{ticket.pk}/events")
    assert len(response.json()) == 2 + 2 * changes


@SMALL_LARGE
def test_customer_list(size: int, django_assert_num_queries: Any) -> None:
    orgs = [factories.organization() for _ in range(3)]
    for i in range(size):
        customer = factories.customer(organization=orgs[i % 3])
        customer.emails.create(address=f"second-{i}@example.test")
    api = caller(Role.AGENT)
    warm(api, "/customers")
    # token, customers with organizations, emails
    with django_assert_num_queries(3):
        response = api.get("/customers", {"limit": 100})
    assert len(response.json()["items"]) == size


@SMALL_LARGE
def test_organization_list(size: int, django_assert_num_queries: Any) -> None:
    for _ in range(size):
        factories.organization()
    api = caller(Role.AGENT)
    warm(api, "/organizations")
    with django_assert_num_queries(2):
        response = api.get("/organizations", {"limit": 100})
    assert len(response.json()["items"]) == size


@SMALL_LARGE
def test_user_list(size: int, django_assert_num_queries: Any) -> None:
    people = [factories.user(Role.AGENT) for _ in range(size)]
    for i in range(3):
        factories.team(members=people[i::3])
    api = caller(Role.AGENT)
    warm(api, "/users")
    # token, users, teams
    with django_assert_num_queries(3):
        response = api.get("/users", {"limit": 100})
    assert len(response.json()["items"]) == size + 1


@SMALL_LARGE
def test_team_list(size: int, django_assert_num_queries: Any) -> None:
    people = [factories.user(Role.AGENT) for _ in range(4)]
    for i in range(size):
        factories.team(members=people[: i % 4 + 1])
    api = caller(Role.AGENT)
    warm(api, "/teams")
    # token, teams, members
    with django_assert_num_queries(3):
        response = api.get("/teams", {"limit": 100})
    assert len(response.json()["items"]) == size
