"""The search page: tickets and messages, only what the viewer may read, snippets escaped and
highlighted, keyset pages, constant query counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from deskpilot.accounts.models import Role
from deskpilot.core import search as full_text
from deskpilot.tickets import actions
from deskpilot.tickets.models import Via
from deskpilot.tickets.views import search as search_view
from tests import factories
from tests.pages import client_for
from tests.pages import row_numbers as numbers

pytestmark = pytest.mark.django_db


def test_empty_search_shows_the_box_and_tips() -> None:
    response = client_for(factories.user(Role.AGENT)).get("/search")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<label for="search-q">' in body
    assert "data-search-input" in body
    assert "Search tips" in body
    assert "exact phrase" in body
    assert numbers(body) == []


def test_finds_subjects_and_messages_newest_first() -> None:
    agent = factories.user(Role.AGENT)
    by_subject = factories.ticket(subject="Printer on fire")
    by_message = factories.ticket(subject="Office", body_text="The printer in room 4 is jammed.")
    factories.ticket(subject="Unrelated", body_text="Coffee machine.")
    response = client_for(agent).get("/search?q=printer")
    assert response.status_code == 200
    body = response.content.decode()
    assert numbers(body) == [by_message.pk, by_subject.pk]
    assert 'value="printer"' in body
    assert "The <mark>printer</mark> in room 4 is jammed." in body
    # Phrases and exclusions.
    assert numbers(client_for(agent).get('/search?q="room 4"').content.decode()) == [by_message.pk]
    assert numbers(client_for(agent).get("/search?q=printer+-jammed").content.decode()) == [by_subject.pk]
    nothing = client_for(agent).get("/search?q=zebra").content.decode()
    assert numbers(nothing) == []
    assert "No tickets match" in nothing


def test_snippets_are_escaped_and_cut_around_the_match() -> None:
    agent = factories.user(Role.AGENT)
    long_text = "x " * 100 + "<script>alert('refund')</script> please refund me " + "y " * 200
    factories.ticket(subject="Money", body_text=long_text)
    body = client_for(agent).get("/search?q=refund").content.decode()
    [snippet] = re.findall(r'<p class="snippet">(.*?)</p>', body)
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert "&lt;script&gt;alert(&#x27;<mark>refund</mark>&#x27;)&lt;/script&gt;" in snippet
    assert "please <mark>refund</mark> me" in snippet
    assert "<script>" not in body.split("<main")[1]


def test_highlight_never_lets_markup_through() -> None:
    marked = str(search_view.highlight('<b onclick="x">Bold</b>', ["bold"]))
    assert marked == "&lt;b onclick=&quot;x&quot;&gt;<mark>Bold</mark>&lt;/b&gt;"
    # A word that is part of markup is highlighted as text, still escaped.
    assert str(search_view.highlight("<b x>", ["b"])) == "&lt;<mark>b</mark> x&gt;"
    assert str(search_view.highlight("a & b", ["zzz"])) == "a &amp; b"
    assert str(search_view.highlight("<i>", [])) == "&lt;i&gt;"


def test_internal_notes_are_found_by_staff_only() -> None:
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    visible = factories.ticket(subject="Shipping")
    hidden = factories.ticket(subject="Shipping too")
    actions.add_message(visible, actor=agent, via=Via.WEB, body_text="Secret courier code", public=False)
    actions.add_message(hidden, actor=agent, via=Via.WEB, body_text="Secret courier code", public=False)
    actions.update_ticket(visible, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    # Agents see everything; collaborators only the tickets they follow (internal notes included).
    assert numbers(client_for(agent).get("/search?q=courier").content.decode()) == [hidden.pk, visible.pk]
    collab = client_for(collaborator).get("/search?q=courier").content.decode()
    assert numbers(collab) == [visible.pk]
    assert "<mark>courier</mark>" in collab
    assert 'name="ticket"' not in collab  # no bulk boxes on the search page


@pytest.mark.parametrize("url", ["/search", "/search?q=anything"])
def test_customers_get_404_and_visitors_sign_in(url: str) -> None:
    assert client_for(factories.customer_user()).get(url).status_code == 404
    assert Client().get(url)["Location"].startswith("/signin?next=")


def test_pages_through_results(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = factories.user(Role.AGENT)
    tickets = [factories.ticket(subject=f"Invoice {i}") for i in range(5)]
    monkeypatch.setattr(search_view, "PAGE_SIZE", 2)
    client = client_for(agent)
    body = client.get("/search?q=invoice").content.decode()
    seen = numbers(body)
    while found := re.search(r'href="(\?[^"]*)" rel="next"', body):
        body = client.get("/search" + found.group(1).replace("&amp;", "&")).content.decode()
        assert "First page" in body
        seen += numbers(body)
    assert seen == [t.pk for t in reversed(tickets)]
    bad = client.get("/search?q=invoice&cursor=nonsense")
    assert bad.status_code == 422
    assert "Cursor:" in bad.content.decode()


def test_htmx_gets_only_the_results() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(subject="Password reset")
    response = client_for(agent).get("/search?q=password", headers={"HX-Request": "true", "HX-Target": "ticket-area"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="ticket-area"')
    assert "<html" not in body
    assert numbers(body) == [ticket.pk]


def test_query_count_does_not_grow_with_rows(django_assert_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    client = client_for(agent)
    org = factories.organization()

    def make(n: int) -> None:
        for i in range(n):
            ticket = factories.ticket(
                subject=f"Router {i}",
                body_text=f"My router {i} blinks red.",
                requester=factories.customer(organization=org),
            )
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": [f"t{i}"], "assignee": agent})

    make(2)
    # session, user, tickets, tags, emails, snippets, the header's unread notifications; SQLite
    # reads the newest matches first.
    expected = 8 if full_text.walks_newest_first() else 7
    with django_assert_num_queries(expected) as first:
        assert len(numbers(client.get("/search?q=router").content.decode())) == 2
    make(18)
    with django_assert_num_queries(len(first.captured_queries)):
        body = client.get("/search?q=router").content.decode()
    assert len(numbers(body)) == 20
    assert body.count("<mark>router</mark>") == 20
