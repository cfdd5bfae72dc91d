"""What rules do (automation.rules.actions): notify staff, email the requester, call a webhook,
pin an SLA policy; each recorded with the rule that caused it."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Trigger, WebhookDelivery, WebhookSubscription
from deskpilot.automation.rules import engine, store
from deskpilot.core.models import Notification
from deskpilot.mail.models import OutboundKind, OutboundMail
from deskpilot.policies.models import SlaPolicy
from deskpilot.tickets import actions
from deskpilot.tickets.models import Message, Priority, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db

URGENT = [{"field": "priority", "op": "changed_to", "value": "urgent"}]


@pytest.fixture(autouse=True)
def _fresh_cache():
    engine.clear_cache()
    yield
    engine.clear_cache()


def fire(rule_actions: list[dict[str, Any]], **ticket_fields: Any) -> tuple[Trigger, Ticket]:
    rule = store.save_rule(Trigger(name="rule", conditions=URGENT, actions=rule_actions))
    agent = ticket_fields.pop("agent", None) or factories.user(Role.AGENT)
    ticket = factories.ticket(**ticket_fields)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    return rule, ticket


def test_notify_the_assignee_the_team_lead_and_addresses():
    lead = factories.user(Role.MANAGER)
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent], lead=lead)
    rule, ticket = fire(
        [
            {
                "type": "notify",
                "assignee": True,
                "team_lead": True,
                "emails": ["oncall@example.test"],
                "subject": "Urgent: {{ ticket.subject }}",
                "text": "#{{ ticket.id }} from {{ ticket.requester.name }} is urgent.",
            }
        ],
        team=team,
        assignee=agent,
        agent=agent,
        actor=agent,
        subject="Server down",
    )
    notices = Notification.objects.filter(ticket=ticket)
    assert {n.user_id for n in notices} == {agent.pk, lead.pk}
    assert {n.subject for n in notices} == {"Urgent: Server down"}
    assert {n.cause for n in notices} == {f"trigger:{rule.pk}"}
    mail = OutboundMail.objects.get(ticket=ticket, kind=OutboundKind.STAFF_NOTICE)
    assert set(mail.to) == {agent.email, lead.email, "oncall@example.test"}


def test_email_the_requester_from_a_template():
    requester = factories.customer(name="Ada Lovelace", email="ada@example.test")
    rule, ticket = fire(
        [
            {
                "type": "email_requester",
                "subject": "We are on it",
                "body": "Hello {{ ticket.requester.first_name }}, your request #{{ ticket.id }} is now urgent for us.",
            }
        ],
        requester=requester,
    )
    message = Message.objects.filter(ticket=ticket).order_by("-id").first()
    assert message is not None
    assert message.body_text == f"Hello Ada, your request #{ticket.pk} is now urgent for us."
    assert (message.public, message.author_user_id, message.author_customer_id, message.via) == (
        True,
        None,
        None,
        Via.RULE,
    )
    mail = OutboundMail.objects.get(message=message)
    assert mail.to == ["ada@example.test"]
    assert "We are on it" in mail.subject
    assert mail.auto_submitted == "auto-generated"
    event = TicketEvent.objects.get(ticket=ticket, field="message", message=message)
    assert event.cause == f"trigger:{rule.pk}"


def test_call_a_webhook_with_the_ticket():
    subscription = WebhookSubscription.objects.create(
        name="Ops", url="https://hooks.example.test/x", events=["ticket.updated"]
    )
    rule, ticket = fire([{"type": "webhook", "subscription": subscription.pk}])
    delivery = WebhookDelivery.objects.get(subscription=subscription, event_type="rule.fired")
    assert delivery.payload["data"]["ticket"]["id"] == ticket.pk
    assert delivery.payload["data"]["ticket"]["priority"] == "urgent"
    assert delivery.payload["data"]["rule"] == f"trigger:{rule.pk}"


def test_a_turned_off_webhook_sends_nothing():
    subscription = WebhookSubscription.objects.create(name="Ops", url="https://hooks.example.test/x", events=[])
    fire([{"type": "webhook", "subscription": subscription.pk}, {"type": "add_tags", "tags": ["x"]}])
    subscription.active = False
    subscription.save()
    other = factories.ticket()
    actions.update_ticket(other, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"priority": Priority.URGENT})
    assert WebhookDelivery.objects.filter(payload__data__ticket__id=other.pk).count() == 0
    assert set(other.tags.values_list("name", flat=True)) == {"x"}


def test_set_the_sla_policy():
    policy = SlaPolicy.objects.create(name="Gold")
    rule, ticket = fire([{"type": "set_policy", "policy": policy.pk}])
    pin = TicketEvent.objects.get(ticket=ticket, field="sla_pin")
    assert pin.new == {"policy": policy.pk, "calendar": None}
    assert pin.cause == f"trigger:{rule.pk}"
