"""The rule pages (automation.rule_views): managers create, edit, reorder, delete and dry-run
rules with errors that explain the mistake; agents apply macros from the ticket page."""

from __future__ import annotations

import json
import re

import pytest

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Automation, Macro, Trigger
from deskpilot.automation.rules import engine, store
from deskpilot.tickets.models import Message, Priority, Status, Ticket
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db

URGENT = [{"field": "priority", "op": "changed_to", "value": "urgent"}]
TAG = [{"type": "add_tags", "tags": ["urgent"]}]


@pytest.fixture(autouse=True)
def _fresh_cache():
    engine.clear_cache()
    yield
    engine.clear_cache()


@pytest.fixture
def manager():
    return client_for(factories.user(Role.MANAGER))


def test_create_a_trigger(manager):
    response = manager.post(
        "/manage/triggers/new",
        {"name": "Urgent", "active": "on", "conditions": json.dumps(URGENT), "actions": json.dumps(TAG)},
    )
    assert response.status_code == 302
    trigger = Trigger.objects.get()
    assert (trigger.name, trigger.active, trigger.conditions, trigger.actions) == ("Urgent", True, URGENT, TAG)
    page = manager.get("/manage/triggers/").content.decode()
    assert "Urgent" in page
    assert f"/manage/triggers/{trigger.pk}/dry-run" in page


def test_a_mistake_is_explained_next_to_its_field(manager):
    conditions = [{"field": "status", "op": "is", "value": "open"}, {"field": "channel", "op": "is", "value": "email"},
                  {"field": "priority", "op": "is", "value": "urgentt"}]  # fmt: skip
    response = manager.post(
        "/manage/triggers/new", {"name": "x", "conditions": json.dumps(conditions), "actions": json.dumps(TAG)}
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "conditions[2].value: &#x27;urgentt&#x27; is not a priority (low, normal, high, urgent)" in body
    assert 'aria-invalid="true"' in body
    assert Trigger.objects.count() == 0


def test_invalid_json_is_explained(manager):
    response = manager.post("/manage/triggers/new", {"name": "x", "conditions": '[{"field": }]', "actions": "[]"})
    assert response.status_code == 422
    assert "conditions: not valid JSON: Expecting value (line 1, column 12)" in response.content.decode()


def test_edit_keeps_what_was_typed_when_refused(manager):
    trigger = store.save_rule(Trigger(name="Urgent", conditions=URGENT, actions=TAG))
    page = manager.get(f"/manage/triggers/{trigger.pk}/").content.decode()
    assert "changed_to" in page
    response = manager.post(
        f"/manage/triggers/{trigger.pk}/", {"name": "Renamed", "conditions": json.dumps(URGENT), "actions": "[]"}
    )
    assert response.status_code == 422
    assert "actions: add at least one action" in response.content.decode()
    assert Trigger.objects.get().name == "Urgent"
    response = manager.post(
        f"/manage/triggers/{trigger.pk}/",
        {"name": "Renamed", "conditions": json.dumps(URGENT), "actions": json.dumps(TAG)},
    )
    assert response.status_code == 302
    assert (Trigger.objects.get().name, Trigger.objects.get().active) == ("Renamed", False)


def test_reorder_and_delete(manager):
    first, second, third = (store.save_rule(Trigger(name=n, conditions=URGENT, actions=TAG)) for n in "abc")
    assert manager.post(f"/manage/triggers/{third.pk}/move", {"direction": "up"}).status_code == 302
    assert list(Trigger.objects.order_by("position").values_list("name", flat=True)) == ["a", "c", "b"]
    manager.post(f"/manage/triggers/{first.pk}/move", {"direction": "up"})  # already first: no change
    assert list(Trigger.objects.order_by("position").values_list("name", flat=True)) == ["a", "c", "b"]
    manager.post(f"/manage/triggers/{first.pk}/move", {"direction": "down"})
    assert list(Trigger.objects.order_by("position").values_list("name", flat=True)) == ["c", "a", "b"]
    assert manager.post(f"/manage/triggers/{second.pk}/delete").status_code == 302
    assert list(Trigger.objects.order_by("position").values_list("name", flat=True)) == ["c", "a"]


def test_automation_and_macro_forms(manager):
    response = manager.post(
        "/manage/automations/new",
        {"name": "Solve", "status": "pending", "clock": "status", "hours": "168", "active": "on",
         "conditions": "", "actions": json.dumps([{"type": "set", "field": "status", "value": "solved"}])},
    )  # fmt: skip
    assert response.status_code == 302
    assert Automation.objects.get().hours == 168
    response = manager.post(
        "/manage/macros/new",
        {"name": "Ask", "active": "on", "reply_public": "on", "reply": "Hi {{ ticket.requester.first_name }}",
         "actions": json.dumps([{"type": "set", "field": "status", "value": "pending"}])},
    )  # fmt: skip
    assert response.status_code == 302
    response = manager.post("/manage/macros/new", {"name": "Bad", "reply": "{% for %}", "actions": ""})
    assert response.status_code == 422
    assert "reply: line 1:" in response.content.decode()


def test_dry_run_page(manager):
    trigger = store.save_rule(
        Trigger(name="New", conditions=[{"field": "update", "op": "is", "value": "created"}], actions=TAG)
    )
    ticket = factories.ticket(subject="Printer on fire")
    body = manager.get(f"/manage/triggers/{trigger.pk}/dry-run").content.decode()
    assert "Printer on fire" in body
    assert f'href="/tickets/{ticket.pk}"' in body
    assert re.search(r"<strong>1</strong> ticket matched", body)
    automation = store.save_rule(Automation(name="A", status="pending", hours=1, actions=TAG))
    assert manager.get(f"/manage/automations/{automation.pk}/dry-run").status_code == 200


def test_agents_apply_a_macro_from_the_ticket_page():
    agent = factories.user(Role.AGENT)
    client = client_for(agent)
    ticket = factories.ticket(requester=factories.customer(name="Ada Lovelace"))
    macro = store.save_rule(
        Macro(name="Ask for logs", reply="Hi {{ ticket.requester.first_name }}, logs please.",
              actions=[{"type": "set", "field": "status", "value": "pending"}, {"type": "set", "field": "priority", "value": "high"}])
    )  # fmt: skip
    page = client.get(f"/tickets/{ticket.pk}").content.decode()
    assert f'hx-get="/tickets/{ticket.pk}/macro"' in page
    picker = client.get(f"/tickets/{ticket.pk}/macro", headers={"HX-Request": "true"}).content.decode()
    assert "Ask for logs" in picker
    assert "<html" not in picker
    response = client.post(f"/tickets/{ticket.pk}/macro", {"macro": macro.pk})
    assert response.status_code == 302
    message = Message.objects.filter(ticket=ticket).order_by("-id").first()
    assert message is not None
    assert response["Location"] == f"/tickets/{ticket.pk}#message-{message.pk}"
    assert message.body_text == "Hi Ada, logs please."
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.priority) == (Status.PENDING, Priority.HIGH)


def test_a_macro_that_fails_is_explained_and_changes_nothing():
    agent = factories.user(Role.AGENT)
    client = client_for(agent)
    ticket = factories.ticket()
    macro = store.save_rule(
        Macro(
            name="Boom", reply="{{ 'x' * 10000000 }}", actions=[{"type": "set", "field": "priority", "value": "urgent"}]
        )
    )
    response = client.post(f"/tickets/{ticket.pk}/macro", {"macro": macro.pk}, follow=True)
    assert "Macro “Boom” was not applied: reply: not allowed in a template" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.NORMAL
    response = client.post(f"/tickets/{ticket.pk}/macro", {"macro": "nope"}, follow=True)
    assert "macro: choose a macro to apply" in response.content.decode()


def test_collaborators_see_no_macro_picker():
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    from deskpilot.tickets import actions
    from deskpilot.tickets.models import Via

    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [collaborator]})
    page = client_for(collaborator).get(f"/tickets/{ticket.pk}").content.decode()
    assert "/macro" not in page


def test_the_form_lists_the_ids_a_rule_refers_to(manager):
    team = factories.team(name="Billing desk")
    body = manager.get("/manage/triggers/new").content.decode()
    assert f"<dt><code>{team.pk}</code></dt><dd>Billing desk</dd>" in body
