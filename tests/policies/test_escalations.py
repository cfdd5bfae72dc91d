"""Escalation policies set off by SLA warnings and breaches, and the manual escalation ladder."""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest
import time_machine

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.core.models import Notification
from deskpilot.policies import sla
from deskpilot.policies.models import EscalationPolicy, SlaPolicy, SlaTarget
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)


def _policy(escalation: EscalationPolicy) -> SlaPolicy:
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=50, escalation=escalation)
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60, business_hours=False)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=T0 - datetime.timedelta(days=1))
    sla.clear_cache()
    return policy


def test_a_breach_sets_off_the_escalation_policy() -> None:
    lead = factories.user(Role.MANAGER)
    agent = factories.user(Role.AGENT)
    tier2 = factories.team(name="Tier 2", lead=lead)
    first = factories.team(name="Tier 1", members=[agent], lead=lead)
    escalation = EscalationPolicy.objects.create(
        name="Breach → tier 2", on_breach=True, raise_priority=True, move_to_team=tier2, escalate_to="tier2",
        add_lead_as_follower=True, add_tag="sla-breached", notify_emails=["ops@example.test"],
    )  # fmt: skip
    _policy(escalation)
    with time_machine.travel(T0, tick=False):
        ticket = factories.ticket(actor=agent, team=first, assignee=agent)
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="hello?")
    with time_machine.travel(T0 + datetime.timedelta(minutes=70), tick=False):
        sla.sweep()
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.priority == Priority.HIGH
    assert stored.team_id == tier2.pk
    assert stored.escalation == "tier2"
    assert lead in stored.followers.all()
    assert "sla-breached" in set(stored.tags.values_list("name", flat=True))
    caused = set(
        TicketEvent.objects.filter(ticket=ticket, cause=f"escalation:{escalation.pk}").values_list("field", flat=True)
    )
    assert {"priority", "team", "tags", "followers", "escalation"} <= caused
    # The lead hears about it (in the app and by email); the assignee left with the team move.
    assert Notification.objects.filter(user=lead, ticket=ticket).exists()
    # Only the breach acted: the warning at 50 % was not asked for.
    assert TicketEvent.objects.filter(ticket=ticket, field="escalation").count() == 1


def test_a_warning_notifies_when_asked() -> None:
    agent = factories.user(Role.AGENT)
    escalation = EscalationPolicy.objects.create(name="Heads-up", on_warning=True, on_breach=False,
                                                 notify_assignee=True)  # fmt: skip
    _policy(escalation)
    with time_machine.travel(T0, tick=False):
        ticket = factories.ticket(actor=agent, assignee=agent)
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="hello?")
    with time_machine.travel(T0 + datetime.timedelta(minutes=31), tick=False):
        sla.sweep()
    notice = Notification.objects.get(user=agent)
    assert "at risk" in notice.subject
    assert Ticket.objects.get(pk=ticket.pk).escalation is None


def test_manual_escalation_up_and_down_with_reasons() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.set_escalation(ticket, actor=agent, via=Via.WEB, level="tier2", reason="Needs a database expert")
    actions.set_escalation(ticket, actor=agent, via=Via.WEB, level="manager", reason="Customer threatens to leave")
    actions.set_escalation(ticket, actor=agent, via=Via.WEB, level=None, reason="Resolved the blocker")
    events = list(TicketEvent.objects.filter(ticket=ticket, field="escalation").order_by("id"))
    assert [(e.old["level"], e.new["level"], e.new["direction"]) for e in events] == [  # type: ignore[index]
        (None, "tier2", "up"),
        ("tier2", "manager", "up"),
        ("manager", None, "down"),
    ]
    assert events[0].new["reason"] == "Needs a database expert"  # type: ignore[index]
    assert Ticket.objects.get(pk=ticket.pk).escalation is None


@pytest.mark.parametrize(
    ("level", "reason", "field"),
    [("tier3", "x", "level"), ("tier2", "   ", "reason"), ("tier2", "x" * 501, "reason"), (None, "x", "level")],
)
def test_bad_escalations_are_refused_and_change_nothing(level: str | None, reason: str, field: str) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    version = ticket.version
    with pytest.raises(InvalidInput) as error:
        actions.set_escalation(ticket, actor=agent, via=Via.WEB, level=level, reason=reason)
    assert field in error.value.errors
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_customers_and_collaborators_cannot_escalate() -> None:
    ticket = factories.ticket()
    with pytest.raises(NotPermitted):
        actions.set_escalation(ticket, actor=ticket.requester, via=Via.WEB, level="tier2", reason="x")
    with pytest.raises(NotPermitted):
        actions.set_escalation(ticket, actor=factories.user(Role.COLLABORATOR), via=Via.WEB, level="tier2", reason="x")
