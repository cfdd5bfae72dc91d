"""sla.warning, sla.breached and ticket.escalated reach webhook subscribers (queued deliveries)."""

from __future__ import annotations

import datetime
from datetime import UTC
from typing import Any

import pytest
import time_machine

from deskpilot.accounts.models import Role
from deskpilot.automation import webhooks
from deskpilot.automation.models import WebhookDelivery, WebhookFormat
from deskpilot.policies import sla
from deskpilot.policies.models import SlaPolicy, SlaTarget
from deskpilot.tickets import actions
from deskpilot.tickets.models import Via
from tests import factories

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _allow_loopback(settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


def test_warning_and_breach_are_their_own_events(django_capture_on_commit_callbacks: Any) -> None:
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=50)
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60, business_hours=False)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=T0 - datetime.timedelta(days=1))
    sla.clear_cache()
    webhooks.create_subscription(name="Ops", url="http://127.0.0.1:9/hook", events=["sla.warning", "sla.breached"])
    with time_machine.travel(T0, tick=False):
        ticket = factories.ticket()
    with (
        time_machine.travel(T0 + datetime.timedelta(minutes=75), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sla.sweep()
    sent = {d.event_type: d.payload for d in WebhookDelivery.objects.all()}
    assert set(sent) == {"sla.warning", "sla.breached"}
    breach = sent["sla.breached"]["data"]
    assert breach["ticket"]["id"] == ticket.pk
    assert breach["sla"]["metric"] == "first_reply"
    assert breach["sla"]["at"].startswith("2026-03-02T10:00:00")


def test_escalation_is_announced_to_chat(django_capture_on_commit_callbacks: Any) -> None:
    webhooks.create_subscription(
        name="Slack", url="http://127.0.0.1:9/hook", events=["ticket.escalated"], format=WebhookFormat.SLACK
    )
    ticket = factories.ticket(subject="Printer on fire")
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_escalation(
            ticket, actor=factories.user(Role.AGENT), via=Via.WEB, level="manager", reason="Angry customer"
        )
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "ticket.escalated"
    assert delivery.payload["data"]["escalation"]["reason"] == "Angry customer"
    request = webhooks.request_for(delivery)
    assert b"escalated to manager" in (request.data or b"")  # type: ignore[operator]
