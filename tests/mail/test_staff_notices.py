"""notify_staff: in-app notifications and one email to staff, never to customers."""

from __future__ import annotations

import pytest

from deskpilot.accounts.models import Role
from deskpilot.core.models import Notification
from deskpilot.mail.models import DeliveryStatus, OutboundKind, OutboundMail
from deskpilot.mail.notifications import notify_staff
from tests import factories

pytestmark = pytest.mark.django_db


def test_staff_get_an_in_app_notice_and_one_email(django_capture_on_commit_callbacks) -> None:
    agent = factories.user(Role.AGENT, email="a@example.test")
    lead = factories.user(Role.MANAGER, email="lead@example.test")
    customer = factories.customer_user()
    ticket = factories.ticket()
    with django_capture_on_commit_callbacks():
        notices = notify_staff(
            ticket, users=[agent, lead, customer, agent], emails=["Ops@Example.test", "a@example.test"],
            subject="SLA  breached: <first reply>", text="Ticket <b>#1</b> is late", cause="sla:breach",
        )  # fmt: skip
    assert sorted(n.user_id for n in notices) == sorted([agent.pk, lead.pk])
    assert Notification.objects.filter(user=customer).count() == 0
    mail = OutboundMail.objects.get(kind=OutboundKind.STAFF_NOTICE)
    assert mail.to == ["a@example.test", "lead@example.test", "ops@example.test"]
    assert mail.status == DeliveryStatus.QUEUED
    assert "SLA breached: <first reply>" in mail.subject
    assert "&lt;b&gt;" in mail.body_html
    assert "<b>" not in mail.body_html
    assert f"/tickets/{ticket.pk}" in mail.body_text


def test_nobody_to_email_writes_only_the_notices() -> None:
    ticket = factories.ticket()
    inactive = factories.user(Role.AGENT)
    inactive.is_active = False
    inactive.save()
    assert notify_staff(ticket, users=[inactive], subject="x", text="y") == []
    assert not OutboundMail.objects.filter(kind=OutboundKind.STAFF_NOTICE).exists()
