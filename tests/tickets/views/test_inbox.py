"""The inbox pages: who sees which views and tickets, filters, sorting, keyset pages, capped
counts, the htmx partial and constant query counts."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from deskpilot.accounts.models import Role, User
from deskpilot.tickets import actions, saved_views
from deskpilot.tickets.models import Priority, Status, Ticket, Via
from tests import factories
from tests.pages import client_for
from tests.pages import row_numbers as numbers

pytestmark = pytest.mark.django_db


def change(ticket: Ticket, **changes: Any) -> Ticket:
    admin = User.objects.filter(role=Role.ADMIN).first() or factories.user(Role.ADMIN)
    actions.update_ticket(ticket, actor=admin, via=Via.WEB, changes=changes)
    return ticket


@pytest.fixture
def desk() -> dict[str, Any]:
    agent = factories.user(Role.AGENT, name="Maya Chen")
    other = factories.user(Role.AGENT, name="Jonas Weber")
    billing = factories.team(name="Billing", members=[agent])
    support = factories.team(name="Support", members=[other])
    mine = change(factories.ticket(subject="Mine open"), assignee=agent, status=Status.OPEN)
    mine_pending = change(factories.ticket(subject="Mine pending"), assignee=agent, status=Status.PENDING)
    mine_solved = change(factories.ticket(subject="Mine solved"), assignee=agent, status=Status.SOLVED)
    unassigned = change(factories.ticket(subject="Nobody's"), priority=Priority.URGENT, team=support)
    billing_ticket = change(factories.ticket(subject="Billing question"), team=billing, add_tags=["refund"])
    others = change(factories.ticket(subject="Jonas's"), assignee=other, team=support, status=Status.OPEN)
    return {
        "agent": agent,
        "other": other,
        "billing": billing,
        "mine": mine,
        "mine_pending": mine_pending,
        "mine_solved": mine_solved,
        "unassigned": unassigned,
        "billing_ticket": billing_ticket,
        "others": others,
    }


@pytest.mark.parametrize("url", ["/inbox", "/inbox/all-open", "/inbox/saved/1", "/search?q=x"])
def test_anonymous_visitors_are_sent_to_sign_in(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("url", ["/inbox", "/inbox/all-open", "/inbox/unassigned"])
def test_customers_get_404(url: str) -> None:
    assert client_for(factories.customer_user()).get(url).status_code == 404


def test_my_open_tickets_is_the_agents_default_view(desk: dict[str, Any]) -> None:
    response = client_for(desk["agent"]).get("/inbox")
    assert response.status_code == 200
    body = response.content.decode()
    assert numbers(body) == [desk["mine_pending"].pk, desk["mine"].pk]
    assert "<h1>My open tickets" in body
    assert 'aria-current="page"><span>My open tickets' in body
    # The table's parts: checkbox with the version, subject link, badges, team, time zone aware time.
    ticket = Ticket.objects.get(pk=desk["mine"].pk)
    assert f'value="{ticket.pk}:{ticket.version}"' in body
    assert f'<a href="/tickets/{ticket.pk}">Mine open</a>' in body
    assert 'class="badge status--open"' in body
    assert "<time datetime=" in body


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("my-open", ["mine_pending", "mine"]),
        ("unassigned", ["billing_ticket", "unassigned"]),
        ("my-teams", ["billing_ticket"]),
        ("all-open", ["others", "billing_ticket", "unassigned", "mine_pending", "mine"]),
        ("pending", ["mine_pending"]),
        ("recently-solved", ["mine_solved"]),
    ],
)
def test_built_in_views(desk: dict[str, Any], slug: str, expected: list[str]) -> None:
    body = client_for(desk["agent"]).get(f"/inbox/{slug}?sort=-id").content.decode()
    assert numbers(body) == [desk[name].pk for name in expected]


def test_recently_solved_leaves_out_tickets_solved_over_a_week_ago(desk: dict[str, Any]) -> None:
    Ticket.objects.filter(pk=desk["mine_solved"].pk).update(solved_at=timezone.now() - datetime.timedelta(days=8))
    body = client_for(desk["agent"]).get("/inbox/recently-solved").content.decode()
    assert numbers(body) == []
    assert "No tickets here" in body


def test_unknown_view_is_404(desk: dict[str, Any]) -> None:
    assert client_for(desk["agent"]).get("/inbox/everything").status_code == 404


def test_collaborators_see_only_their_tickets_and_cannot_select(desk: dict[str, Any]) -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    followed = desk["others"]
    change(followed, followers=[collaborator])
    client = client_for(collaborator)
    response = client.get("/inbox")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Assigned to me / following" in body
    assert numbers(body) == [followed.pk]
    assert 'name="ticket"' not in body  # no bulk changes for collaborators
    assert "/inbox/unassigned" not in body
    assert client.get("/inbox/all-open").status_code == 404
    # Filters cannot widen what they see.
    assert numbers(client.get(f"/inbox?assignee={desk['agent'].pk}").content.decode()) == []


def test_filters_in_the_query_string(desk: dict[str, Any]) -> None:
    client = client_for(desk["agent"])
    assert numbers(client.get("/inbox/all-open?priority=urgent").content.decode()) == [desk["unassigned"].pk]
    assert numbers(client.get("/inbox/all-open?tag=Refund").content.decode()) == [desk["billing_ticket"].pk]
    assert numbers(client.get(f"/inbox/all-open?team={desk['billing'].pk}").content.decode()) == [
        desk["billing_ticket"].pk
    ]
    by_other = client.get(f"/inbox/all-open?assignee={desk['other'].pk}").content.decode()
    assert numbers(by_other) == [desk["others"].pk]
    assert numbers(client.get("/inbox/all-open?status=pending&status=open&sort=id").content.decode()) == [
        desk["mine"].pk,
        desk["mine_pending"].pk,
        desk["others"].pk,
    ]
    # The filter bar shows what is applied.
    assert '<option value="urgent" selected>' in client.get("/inbox/all-open?priority=urgent").content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=bogus", "Status"), ("assignee=someone", "Assignee"), ("sort=subject", "Sort"), ("cursor=zzz", "Cursor")],
)
def test_bad_filters_are_a_clear_error(desk: dict[str, Any], query: str, field: str) -> None:
    response = client_for(desk["agent"]).get(f"/inbox/all-open?{query}")
    assert response.status_code == 422
    body = response.content.decode()
    assert f"<p>{field}: " in body
    assert numbers(body) == []


def test_sorting(desk: dict[str, Any]) -> None:
    client = client_for(desk["agent"])
    change(desk["mine"], priority=Priority.HIGH)  # now the most recently updated
    # Newest first by default: the cheapest order on a million tickets.
    assert numbers(client.get("/inbox/all-open").content.decode())[0] == desk["others"].pk
    assert numbers(client.get("/inbox/all-open?sort=-updated_at").content.decode())[0] == desk["mine"].pk
    assert numbers(client.get("/inbox/all-open?sort=id").content.decode())[0] == desk["mine"].pk
    assert numbers(client.get("/inbox/all-open?sort=-created_at").content.decode())[0] == desk["others"].pk


def test_keyset_pages_of_fifty(monkeypatch: pytest.MonkeyPatch) -> None:
    agent = factories.user(Role.AGENT)
    tickets = [factories.ticket(subject=f"Ticket {i}") for i in range(7)]
    monkeypatch.setattr(saved_views, "PAGE_SIZE", 3)
    client = client_for(agent)
    seen: list[int] = []
    url = "/inbox/unassigned?sort=-id&priority=normal"
    pages = 0
    while url:
        body = client.get(url).content.decode()
        seen += numbers(body)
        pages += 1
        found = re.search(r'href="(\?[^"]*cursor=[^"]*)" rel="next"', body)
        url = "/inbox/unassigned" + found.group(1).replace("&amp;", "&") if found else ""
        if pages > 1:
            assert "First page" in body
            assert "priority=normal" in url or not url  # filters kept across pages
    assert seen == [t.pk for t in reversed(tickets)]
    assert pages == 3


def test_the_page_size_is_fifty() -> None:
    agent = factories.user(Role.AGENT)
    for i in range(51):
        factories.ticket(subject=f"Ticket {i}")
    body = client_for(agent).get("/inbox/unassigned").content.decode()
    assert len(numbers(body)) == 50
    assert "Next page" in body


def test_sidebar_counts_are_capped(desk: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    body = client_for(desk["agent"]).get("/inbox").content.decode()
    assert re.search(r"<span>All open</span><span class=\"count\">5</span>", body)
    assert re.search(r"<span>My open tickets</span><span class=\"count\">2</span>", body)
    monkeypatch.setattr(saved_views, "COUNT_CAP", 3)
    body = client_for(desk["agent"]).get("/inbox").content.decode()
    assert re.search(r"<span>All open</span><span class=\"count\">3\+</span>", body)
    assert re.search(r"<span>My open tickets</span><span class=\"count\">2</span>", body)


def test_capped_count_uses_a_limit_subquery(desk: dict[str, Any], django_assert_num_queries: Any) -> None:
    qs = saved_views.queue_tickets(desk["agent"], saved_views.QUEUES["all-open"], {})
    with django_assert_num_queries(1) as captured:
        assert saved_views.capped_count(qs) == 5
    sql = captured.captured_queries[0]["sql"].upper()
    assert "LIMIT 1001" in sql
    assert "COUNT(*)" in sql


def test_htmx_swaps_only_the_ticket_area(desk: dict[str, Any]) -> None:
    response = client_for(desk["agent"]).get(
        "/inbox/all-open?priority=urgent", headers={"HX-Request": "true", "HX-Target": "ticket-area"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="ticket-area"')
    assert "<html" not in body
    assert 'class="sidebar"' not in body
    assert numbers(body) == [desk["unassigned"].pk]


def test_without_javascript_filters_and_pages_are_plain_links_and_forms(desk: dict[str, Any]) -> None:
    body = client_for(desk["agent"]).get("/inbox/all-open").content.decode()
    assert '<form class="inbox-filters" method="get" action="/inbox/all-open"' in body
    assert 'hx-push-url="true"' in body
    assert '<form method="post" action="/inbox/bulk"' in body
    for label in ("filter-status", "filter-priority", "filter-team", "filter-assignee", "filter-tag", "filter-sort"):
        assert f'<label for="{label}">' in body


def test_subjects_and_names_are_escaped() -> None:
    agent = factories.user(Role.AGENT)
    requester = factories.customer(name="<b>Mallory</b>")
    factories.ticket(requester=requester, subject="<script>alert(1)</script>")
    body = client_for(agent).get("/inbox/unassigned").content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in body


def test_query_count_does_not_grow_with_rows(django_assert_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    org = factories.organization()

    def make(n: int) -> None:
        for i in range(n):
            ticket = factories.ticket(subject=f"Ticket {i}", requester=factories.customer(organization=org))
            change(ticket, team=team, assignee=agent, add_tags=[f"tag{i}", "common"], status=Status.OPEN)

    client = client_for(agent)
    make(2)
    # session, user, 6 view counts, saved views, teams, agents, tickets, tags, emails, the header's
    # unread notifications.
    with django_assert_num_queries(15):
        assert len(numbers(client.get("/inbox").content.decode())) == 2
    make(18)
    with django_assert_num_queries(15):
        assert len(numbers(client.get("/inbox").content.decode())) == 20
    # The htmx partial skips the sidebar's counts.
    with django_assert_num_queries(7):
        client.get("/inbox", headers={"HX-Request": "true", "HX-Target": "ticket-area"})
