"""The side panel's update (POST /tickets/<id>/update) and the merge form (POST
/tickets/<id>/merge): changes go through the actions, a stale page does not overwrite, errors
sit next to their field."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import CustomField, FieldKind, Status, Ticket, TicketEvent, Via
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db


def form_data(ticket: Ticket, **changes: Any) -> dict[str, Any]:
    """What the panel posts when nothing is touched, with ``changes`` applied."""
    ticket.refresh_from_db()
    data: dict[str, Any] = {
        "expected_version": ticket.version,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "team": ticket.team_id or "",
        "assignee": ticket.assignee_id or "",
        "tags": ", ".join(ticket.tags.values_list("name", flat=True)),
    }
    data.update(changes)
    return data


def update(client: Client, ticket: Ticket, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(f"/tickets/{ticket.pk}/update", data, **extra)


@pytest.fixture
def desk() -> dict[str, Any]:
    agent = factories.user(Role.AGENT, name="Maya Chen")
    colleague = factories.user(Role.AGENT, name="Jonas Weber")
    outsider = factories.user(Role.AGENT, name="Priya Nair")
    billing = factories.team(name="Billing", members=[agent, colleague])
    return {"agent": agent, "colleague": colleague, "outsider": outsider, "billing": billing}


def test_the_panel_changes_fields_through_the_action(desk: dict[str, Any]) -> None:
    ticket = factories.ticket(tags=["billing"], actor=desk["agent"])
    client = client_for(desk["agent"])
    data = form_data(
        ticket,
        status="pending",
        priority="urgent",
        type="incident",
        team=desk["billing"].pk,
        assignee=desk["colleague"].pk,
        tags="Billing, Refund request",
    )
    response = update(client, ticket, data)
    assert (response.status_code, response["Location"]) == (302, f"/tickets/{ticket.pk}")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.type, ticket.team, ticket.assignee) == (
        Status.PENDING,
        "urgent",
        "incident",
        desk["billing"],
        desk["colleague"],
    )
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "refund-request"]
    events = TicketEvent.objects.filter(
        ticket=ticket, field__in=["status", "priority", "type", "team", "assignee", "tags"]
    )
    assert {e.via for e in events} == {Via.WEB}
    assert {e.actor_user for e in events} == {desk["agent"]}
    assert "Ticket updated." in client.get(f"/tickets/{ticket.pk}").content.decode()


def test_untouched_panel_changes_nothing(desk: dict[str, Any]) -> None:
    ticket = factories.ticket(tags=["a", "b"], actor=desk["agent"])
    before = TicketEvent.objects.filter(ticket=ticket).count()
    version = ticket.version
    response = update(client_for(desk["agent"]), ticket, form_data(ticket, tags="b , A"))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.version, TicketEvent.objects.filter(ticket=ticket).count()) == (version, before)


def test_a_stale_page_does_not_overwrite_and_shows_the_latest(desk: dict[str, Any]) -> None:
    ticket = factories.ticket()
    seen = form_data(ticket)
    # Someone else sets the priority to high after the page was loaded.
    actions.update_ticket(ticket, actor=desk["colleague"], via=Via.WEB, changes={"priority": "high", "status": "open"})
    seen.update(priority="low", status="pending")
    response = update(client_for(desk["agent"]), ticket, seen)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Someone else changed this ticket; here is the latest." in body
    assert '<option value="high" selected>High</option>' in body
    assert '<option value="open" selected>Open</option>' in body
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("high", Status.OPEN)
    assert f'name="expected_version" value="{ticket.version}"' in body


def test_an_assignee_outside_the_team_is_an_error_next_to_the_field(desk: dict[str, Any]) -> None:
    ticket = factories.ticket()
    data = form_data(ticket, team=desk["billing"].pk, assignee=desk["outsider"].pk, priority="high")
    response = update(client_for(desk["agent"]), ticket, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert '<p class="error" id="id_assignee_error" role="alert">' in body
    assert "is not a member of team &#x27;Billing&#x27;" in body
    # What was chosen is kept, and nothing was written.
    assert '<option value="high" selected>High</option>' in body
    ticket.refresh_from_db()
    assert (ticket.team, ticket.assignee, ticket.priority) == (None, None, "normal")


def test_custom_fields_are_typed_and_their_errors_sit_next_to_them(desk: dict[str, Any]) -> None:
    CustomField.objects.create(key="plan", label="Plan", kind=FieldKind.DROPDOWN, choices=["free", 2])
    CustomField.objects.create(key="seats", label="Seats", kind=FieldKind.NUMBER)
    CustomField.objects.create(key="renewal", label="Renewal", kind=FieldKind.DATE)
    CustomField.objects.create(key="vip", label="VIP", kind=FieldKind.CHECKBOX)
    CustomField.objects.create(key="order", label="Order", kind=FieldKind.TEXT, required=True)
    ticket = factories.ticket(actor=desk["agent"], custom_fields={"order": "A-1"})
    client = client_for(desk["agent"])
    data = form_data(ticket, cf_plan="2", cf_seats="12", cf_renewal="2026-05-01", cf_vip="on", cf_order="A-2")
    assert update(client, ticket, data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"plan": 2, "seats": 12, "renewal": "2026-05-01", "vip": True, "order": "A-2"}

    # The action's verdict, next to the field.
    bad = form_data(ticket, cf_plan="2", cf_seats="many", cf_renewal="2026-05-01", cf_vip="on", cf_order="A-2")
    response = update(client, ticket, bad)
    assert response.status_code == 422
    assert '<p class="error" id="id_cf_seats_error" role="alert">must be a number</p>' in response.content.decode()
    # A required field left empty.
    bad = form_data(ticket, cf_plan="2", cf_seats="3", cf_renewal="2026-05-01", cf_vip="on", cf_order="")
    response = update(client, ticket, bad)
    assert response.status_code == 422
    body = response.content.decode()
    assert '<p class="error" id="id_cf_order_error" role="alert">This field is required.</p>' in body
    assert 'name="cf_seats" value="3"' in body  # what was typed is kept
    ticket.refresh_from_db()
    assert ticket.custom_fields["seats"] == 12


def test_a_status_the_actions_refuse_is_an_error_next_to_status(desk: dict[str, Any]) -> None:
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=desk["agent"], via=Via.WEB, changes={"status": "open"})
    response = update(client_for(desk["agent"]), ticket, form_data(ticket, status="new"))
    assert response.status_code == 422
    assert 'id="id_status_error"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_with_htmx_the_updated_body_comes_back(desk: dict[str, Any]) -> None:
    ticket = factories.ticket()
    response = update(client_for(desk["agent"]), ticket, form_data(ticket, priority="urgent"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="ticket-body"')
    assert 'class="badge priority--urgent"' in body
    assert "Ticket updated." in body


def test_collaborators_may_not_update(desk: dict[str, Any]) -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=desk["agent"], via=Via.WEB, changes={"followers": [collaborator]})
    response = update(client_for(collaborator), ticket, form_data(ticket, priority="urgent"))
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_customers_get_404_and_anonymous_visitors_sign_in(desk: dict[str, Any]) -> None:
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer)
    assert update(client_for(account), ticket, form_data(ticket, priority="urgent")).status_code == 404
    response = update(Client(), ticket, form_data(ticket, priority="urgent"))
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_a_closed_ticket_cannot_be_updated(desk: dict[str, Any]) -> None:
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=desk["agent"], via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=desk["agent"], via=Via.WEB, changes={"status": Status.CLOSED})
    response = update(client_for(desk["agent"]), ticket, form_data(ticket, priority="urgent"))
    assert response.status_code == 422
    body = response.content.decode()
    assert '<div class="form-errors" role="alert"><p>closed tickets cannot be changed' in body
    assert "/update" not in body  # the panel stays read-only
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


# --- merge -------------------------------------------------------------------------------------


def test_merge_moves_the_conversation_and_lands_on_the_target(desk: dict[str, Any]) -> None:
    source = factories.ticket(body_text="Second copy of my question")
    target = factories.ticket()
    client = client_for(desk["agent"])
    response = client.post(f"/tickets/{source.pk}/merge", {"merge-into": target.pk})
    assert (response.status_code, response["Location"]) == (302, f"/tickets/{target.pk}")
    source.refresh_from_db()
    assert source.status == Status.CLOSED
    page = client.get(f"/tickets/{target.pk}").content.decode()
    assert "Second copy of my question" in page
    assert f"Ticket #{source.pk} was merged into this ticket." in page


@pytest.mark.parametrize(
    ("into", "problem"),
    [("self", "a ticket cannot be merged into itself"), ("missing", "There is no ticket #"), ("", "Give the number")],
)
def test_merge_errors_sit_next_to_the_field(desk: dict[str, Any], into: str, problem: str) -> None:
    source = factories.ticket()
    value = {"self": source.pk, "missing": 999999, "": ""}[into]
    response = client_for(desk["agent"]).post(f"/tickets/{source.pk}/merge", {"merge-into": value})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_merge-into_error"' in body
    assert problem in body
    source.refresh_from_db()
    assert source.status == Status.NEW


def test_collaborators_may_not_merge(desk: dict[str, Any]) -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    source = factories.ticket()
    target = factories.ticket()
    for ticket in (source, target):
        actions.update_ticket(ticket, actor=desk["agent"], via=Via.WEB, changes={"followers": [collaborator]})
    response = client_for(collaborator).post(f"/tickets/{source.pk}/merge", {"merge-into": target.pk})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.status == Status.NEW
