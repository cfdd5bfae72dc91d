"""The inbox's bulk form: POST + redirect back to the same view with a message; agents only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, TicketEvent, Via
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def boxes(*tickets: Ticket) -> list[str]:
    return [f"{t.pk}:{Ticket.objects.get(pk=t.pk).version}" for t in tickets]


def flashes(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


BACK = "/inbox/all-open?priority=normal&cursor=abc"


def test_status_and_assign_then_back_to_the_same_view() -> None:
    agent = factories.user(Role.AGENT)
    one, two, untouched = factories.ticket(), factories.ticket(), factories.ticket()
    client = client_for(agent)
    response = client.post(
        "/inbox/bulk", {"ticket": boxes(one, two), "action": "status", "status": "pending", "next": BACK}
    )
    assert (response.status_code, response["Location"]) == (302, BACK)
    assert flashes(response) == ["2 tickets updated."]
    client.get(BACK)  # shows (and so clears) the message
    response = client.post(
        "/inbox/bulk", {"ticket": boxes(one, two), "action": "assign", "assignee": str(agent.pk), "next": BACK}
    )
    assert flashes(response) == ["2 tickets updated."]
    for ticket in (one, two):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee) == (Status.PENDING, agent)
        assert TicketEvent.objects.filter(ticket=ticket, field="status", via=Via.WEB).count() == 1
        assert TicketEvent.objects.filter(ticket=ticket, field="assignee", via=Via.WEB).count() == 1
    untouched.refresh_from_db()
    assert (untouched.status, untouched.assignee) == (Status.NEW, None)
    # The message shows on the page it returns to.
    client.post("/inbox/bulk", {"ticket": boxes(one), "action": "priority", "priority": "high", "next": "/inbox"})
    assert "1 ticket updated." in client.get("/inbox").content.decode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"action": "status", "status": "open"}, "Nothing was changed. Tickets: select at least one ticket."),
        ({"action": "assign", "assignee": "999999"}, "Nothing was changed. Assignee: is not an active agent."),
        ({"action": "status", "status": "done"}, "Nothing was changed. Status: choose one of"),
        ({"action": "merge", "merge_target": "1"}, "Nothing was changed. Merge target: ticket #1 is not among"),
    ],
)
def test_invalid_input_is_a_clear_message_and_changes_nothing(data: dict[str, Any], expected: str) -> None:
    agent = factories.user(Role.AGENT)
    factories.ticket()
    one, two = factories.ticket(), factories.ticket()
    if data["action"] != "status" or data.get("status") != "open":
        data = {**data, "ticket": boxes(one, two)}
    response = client_for(agent).post("/inbox/bulk", {**data, "next": BACK})
    assert response["Location"] == BACK
    [message] = flashes(response)
    assert message.startswith(expected)
    assert TicketEvent.objects.exclude(field__in=["created", "message"]).count() == 0


def test_a_ticket_changed_meanwhile_stops_everything() -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket()
    seen = boxes(one, two)
    actions.update_ticket(two, actor=agent, via=Via.WEB, changes={"priority": "low"})
    response = client_for(agent).post("/inbox/bulk", {"ticket": seen, "action": "status", "status": "open"})
    assert "changed by someone else" in flashes(response)[0]
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.NEW}


def test_merge_from_the_page() -> None:
    agent = factories.user(Role.AGENT)
    target, other = factories.ticket(), factories.ticket()
    response = client_for(agent).post(
        "/inbox/bulk", {"ticket": boxes(target, other), "action": "merge", "merge_target": str(target.pk)}
    )
    assert flashes(response) == ["2 tickets merged."]
    assert Ticket.objects.get(pk=other.pk).status == Status.CLOSED


def test_next_must_stay_on_the_site() -> None:
    agent = factories.user(Role.AGENT)
    one = factories.ticket()
    for evil in ("https://evil.example/", "//evil.example/inbox"):
        response = client_for(agent).post(
            "/inbox/bulk", {"ticket": boxes(one), "action": "priority", "priority": "low", "next": evil}
        )
        assert response["Location"] == "/inbox"


@pytest.mark.parametrize("role", [Role.COLLABORATOR, Role.CUSTOMER])
def test_collaborators_and_customers_get_404(role: str) -> None:
    user = factories.customer_user() if role == Role.CUSTOMER else factories.user(role)
    ticket = factories.ticket()
    if role == Role.COLLABORATOR:
        actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"followers": [user]})
    response = client_for(user).post("/inbox/bulk", {"ticket": boxes(ticket), "action": "status", "status": "open"})
    assert response.status_code == 404
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_anonymous_is_sent_to_sign_in_and_get_is_refused() -> None:
    response = Client().post("/inbox/bulk", {"action": "status"})
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")
    assert client_for(factories.user(Role.AGENT)).get("/inbox/bulk").status_code == 405


def test_csrf_is_required() -> None:
    agent = factories.user(Role.AGENT)
    one = factories.ticket()
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post("/inbox/bulk", {"ticket": boxes(one), "action": "status", "status": "open"})
    assert response.status_code == 403
    assert Ticket.objects.get(pk=one.pk).status == Status.NEW
