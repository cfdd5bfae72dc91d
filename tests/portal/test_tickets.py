"""My requests (/portal/tickets): who may open it, which tickets it lists, status words, filters,
pages, the htmx partial, and a query count that does not grow with the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from deskpilot.portal import queries as portal_queries
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, Via
from tests import factories
from tests.portal.conftest import People, client_for, share

URL = reverse("portal:tickets")
pytestmark = pytest.mark.django_db


def numbers(response: Any) -> list[int]:
    return [row[0].pk for row in response.context["rows"]]


def set_status(ticket: Ticket, agent: Any, status: str) -> None:
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": status})


def test_anonymous_visitor_is_sent_to_sign_in() -> None:
    response = client_for(None).get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/signin?next={URL}"


@pytest.mark.parametrize("role", ["agent", "manager", "admin", "collaborator"])
def test_staff_get_404(people: People, role: str) -> None:
    assert client_for(getattr(people, role)).get(URL).status_code == 404


def test_lists_own_and_ccd_tickets_only(people: People) -> None:
    own = factories.ticket(requester=people.customer.customer, subject="My own question")
    ccd = factories.ticket(requester=people.other.customer, ccs=[people.customer.customer])
    others = factories.ticket(requester=people.other.customer, subject="Mallory's secret")
    colleagues = factories.ticket(requester=people.colleague.customer)  # organization does not share

    response = client_for(people.customer).get(URL)

    assert response.status_code == 200
    assert numbers(response) == [ccd.pk, own.pk]
    html = response.content.decode()
    assert "My own question" in html
    assert "Mallory&#x27;s secret" not in html
    assert "Mallory's secret" not in html
    assert f'href="/portal/tickets/{colleagues.pk}"' not in html
    assert f'href="/portal/tickets/{others.pk}"' not in html
    # No organization tab while the organization does not share.
    assert "scope=organization" not in html


def test_organization_tab_when_the_organization_shares(people: People) -> None:
    own = factories.ticket(requester=people.customer.customer)
    colleagues = factories.ticket(requester=people.colleague.customer, subject="Fox's printer")
    factories.ticket(requester=people.other.customer)
    client = client_for(people.customer)

    # Without sharing, asking for the organization's list quietly shows one's own.
    assert numbers(client.get(URL, {"scope": "organization"})) == [own.pk]

    share(people.organization)
    mine = client.get(URL)
    assert numbers(mine) == [own.pk]
    assert "scope=organization" in mine.content.decode()
    org = client.get(URL, {"scope": "organization"})
    assert numbers(org) == [colleagues.pk, own.pk]
    html = org.content.decode()
    assert "<h1>Northwind's requests</h1>" in html
    assert "Requester" in html
    assert people.colleague.customer.name in html


@pytest.mark.parametrize(
    ("status", "words", "css"),
    [
        (Status.NEW, "Open", "status--open"),
        (Status.OPEN, "Open", "status--open"),
        (Status.ON_HOLD, "Open", "status--open"),
        (Status.PENDING, "Awaiting your reply", "status--pending"),
        (Status.SOLVED, "Solved", "status--solved"),
        (Status.CLOSED, "Closed", "status--closed"),
    ],
)
def test_status_in_customer_words(people: People, status: str, words: str, css: str) -> None:
    ticket = factories.ticket(requester=people.customer.customer)
    if status == Status.CLOSED:
        set_status(ticket, people.agent, Status.SOLVED)
    if status != Status.NEW:
        set_status(ticket, people.agent, status)

    html = client_for(people.customer).get(URL).content.decode()

    assert f'<span class="badge {css}">{words}</span>' in html
    # The internal word never reaches the customer.
    assert "On hold" not in html
    assert "on_hold" not in html


def test_filter_open_and_solved(people: People) -> None:
    requester = people.customer.customer
    open_one = factories.ticket(requester=requester)
    pending = factories.ticket(requester=requester)
    set_status(pending, people.agent, Status.PENDING)
    solved = factories.ticket(requester=requester)
    set_status(solved, people.agent, Status.SOLVED)
    closed = factories.ticket(requester=requester)
    set_status(closed, people.agent, Status.SOLVED)
    set_status(closed, people.agent, Status.CLOSED)
    client = client_for(people.customer)

    assert numbers(client.get(URL, {"state": "open"})) == [pending.pk, open_one.pk]
    assert numbers(client.get(URL, {"state": "solved"})) == [closed.pk, solved.pk]
    assert numbers(client.get(URL, {"state": "all"})) == [closed.pk, solved.pk, pending.pk, open_one.pk]
    # Unknown filter values fall back to everything instead of failing.
    assert numbers(client.get(URL, {"state": "bogus", "scope": "bogus"})) == [
        closed.pk,
        solved.pk,
        pending.pk,
        open_one.pk,
    ]
    set_status(solved, people.agent, Status.OPEN)
    assert numbers(client.get(URL, {"state": "solved"})) == [closed.pk]


def test_empty_list_invites_a_first_request(people: People) -> None:
    html = client_for(people.customer).get(URL).content.decode()
    assert "You have not sent any requests yet." in html
    assert reverse("portal:new") in html


def test_pages_walk_the_whole_list_newest_first(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal_queries, "PAGE_SIZE", 3)
    created = [factories.ticket(requester=people.customer.customer).pk for _ in range(7)]
    client = client_for(people.customer)

    seen: list[int] = []
    response = client.get(URL)
    while True:
        seen += numbers(response)
        cursor = response.context["next_cursor"]
        if cursor is None:
            break
        assert 'rel="next"' in response.content.decode()
        response = client.get(URL, {"cursor": cursor})
        assert "First page" in response.content.decode()

    assert seen == sorted(created, reverse=True)


def test_a_tampered_cursor_restarts_the_list(people: People) -> None:
    response = client_for(people.customer).get(URL, {"cursor": "not-a-cursor", "state": "open"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?scope=mine&state=open"


def test_htmx_gets_only_the_list(people: People) -> None:
    factories.ticket(requester=people.customer.customer, subject="Partial please")
    client = client_for(people.customer)

    partial = client.get(URL, {"state": "open"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="ticket-list"')
    assert "Partial please" in html
    assert "<html" not in html
    # A history restore (back button, cache miss) needs the whole page.
    full = client.get(URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in full.content.decode()


def test_escapes_what_customers_wrote(people: People) -> None:
    factories.ticket(requester=people.customer.customer, subject="<script>alert(1)</script>")
    html = client_for(people.customer).get(URL).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("size", [1, 30])
def test_query_count_does_not_grow_with_the_list(
    people: People, size: int, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    share(people.organization)
    for index in range(size):
        requester = people.customer.customer if index % 2 else people.colleague.customer
        factories.ticket(requester=requester, ccs=[people.other.customer] if index % 3 == 0 else [])
    client = client_for(people.customer)
    # session, user, customer, organization, the page of tickets (requester joined)
    with django_assert_num_queries(5):
        response = client.get(URL, {"scope": "organization"})
    assert len(response.context["rows"]) == min(size, portal_queries.PAGE_SIZE)
    with django_assert_num_queries(5):
        client.get(URL, {"state": "open"})
