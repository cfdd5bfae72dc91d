# ruff: noqa: F811 - pytest fixtures imported from conftest_outbound are parameters here
"""Acknowledgements and assignment notices: when they go, when they never go, the rate limit,
templates per team with their fallbacks, and the automatic-mail headers."""

from __future__ import annotations

import datetime
import logging

import pytest
import time_machine
from django.core import mail as django_mail
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.customers.models import CustomerEmail
from deskpilot.mail import notifications, tokens
from deskpilot.mail.models import DeliveryStatus, NotificationTemplate, OutboundKind, OutboundMail
from deskpilot.tickets import actions
from deskpilot.tickets.models import Via
from deskpilot.tickets.signals import ticket_changed
from tests import factories
from tests.mail.conftest_outbound import agent, committed, email_ticket, mailbox  # noqa: F401

pytestmark = pytest.mark.django_db


def acks(ticket=None) -> list[OutboundMail]:
    qs = OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT)
    return list(qs.filter(ticket=ticket) if ticket else qs.order_by("id"))


def portal_ticket(email: str = "pat@customer.test", **kwargs):
    account = factories.customer_user(email=email)
    return factories.ticket(requester=account.customer, actor=account, via=Via.WEB, **kwargs)


def test_a_customers_new_request_is_acknowledged_as_automatic_mail(committed, mailbox):
    with committed():
        ticket = portal_ticket(subject="Where is my parcel?")
    (ack,) = acks(ticket)
    assert ack.status == DeliveryStatus.SENT
    assert ack.to == ["pat@customer.test"]
    assert ack.subject == f"We received your request: Where is my parcel? {tokens.subject_tag(ticket.pk)}"
    sent = django_mail.outbox[-1]
    headers = sent.message()
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["Reply-To"] == tokens.reply_address("support@acme.test", ticket.pk)
    assert f"Your request number is {ticket.pk}" in sent.body
    html = sent.alternatives[0][0]  # type: ignore[attr-defined]
    assert f"Your request number is {ticket.pk}" in str(html)


def test_api_tickets_of_customers_are_acknowledged_but_not_those_agents_create(committed, mailbox, agent):
    customer = factories.customer(email="quinn@customer.test")
    with committed():
        by_customer = factories.ticket(requester=customer, via=Via.API)
        by_agent = actions.create_ticket(
            actor=agent, via=Via.WEB, subject="We noticed", requester=customer, body_text="Hi", public=False
        )
    assert len(acks(by_customer)) == 1
    assert acks(by_agent) == []


def test_tickets_created_by_email_are_left_to_intake(committed, mailbox):
    with committed():
        ticket = email_ticket()
    assert acks(ticket) == []
    notifications.queue_acknowledgement(ticket, inbound_was_automatic=False)
    assert acks(ticket)[0].status in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)
    # Called twice (a retried intake job): still one.
    assert notifications.queue_acknowledgement(ticket, inbound_was_automatic=False) is None
    assert len(acks(ticket)) == 1


def test_automatic_mail_is_never_acknowledged(committed, mailbox):
    with committed():
        ticket = email_ticket()
        ack = notifications.queue_acknowledgement(ticket, inbound_was_automatic=True)
    assert ack is not None
    assert ack.status == DeliveryStatus.SKIPPED
    assert "automatic" in ack.skipped[0]["reason"]
    assert django_mail.outbox == []


def test_bouncing_requesters_get_no_acknowledgement(committed, mailbox):
    customer = factories.customer(email="gone@customer.test")
    CustomerEmail.objects.filter(customer=customer).update(bouncing_since=timezone.now())
    with committed():
        ticket = factories.ticket(requester=customer, via=Via.API)
    (ack,) = acks(ticket)
    assert ack.status == DeliveryStatus.SKIPPED
    assert ack.skipped[0]["address"] == "gone@customer.test"
    assert django_mail.outbox == []


def test_acknowledgements_are_rate_limited_per_sender(committed, mailbox, settings):
    settings.ACK_MAX_PER_HOUR = 3
    customer = factories.customer(email="loop@customer.test")
    other = factories.customer(email="other@customer.test")
    start = timezone.now()
    with time_machine.travel(start, tick=False), committed():
        tickets = [factories.ticket(requester=customer, via=Via.API) for _ in range(5)]
        other_ticket = factories.ticket(requester=other, via=Via.API)
    statuses = [acks(t)[0].status for t in tickets]
    assert statuses == [DeliveryStatus.SENT] * 3 + [DeliveryStatus.SKIPPED] * 2
    assert "rate limit" in acks(tickets[3])[0].skipped[0]["reason"]
    assert acks(other_ticket)[0].status == DeliveryStatus.SENT
    # An hour later, the sender is acknowledged again.
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False), committed():
        later = factories.ticket(requester=customer, via=Via.API)
    assert acks(later)[0].status == DeliveryStatus.SENT
    assert len(django_mail.outbox) == 5


def test_a_mailbox_can_turn_acknowledgements_off_and_so_can_the_setting(committed, mailbox, settings):
    mailbox.send_acknowledgement = False
    mailbox.save()
    with committed():
        ticket = factories.ticket(via=Via.API)
    assert acks(ticket) == []
    mailbox.delete()
    settings.MAIL_SEND_ACKNOWLEDGEMENT = False
    with committed():
        ticket = factories.ticket(via=Via.API)
    assert acks(ticket) == []
    settings.MAIL_SEND_ACKNOWLEDGEMENT = True
    with committed():
        ticket = factories.ticket(via=Via.API)
    assert len(acks(ticket)) == 1


def test_templates_per_team_then_the_default_then_built_in(committed, mailbox, agent):
    support, billing = factories.team(members=[agent]), factories.team(members=[agent])
    built_in = notifications.render(OutboundKind.ACKNOWLEDGEMENT, support, {"ticket": None, "customer": None})
    assert built_in.subject.startswith("We received your request")
    NotificationTemplate.objects.create(
        kind=OutboundKind.ACKNOWLEDGEMENT, team=None, subject="Default: {{ ticket.subject }}", body="Default body"
    )
    NotificationTemplate.objects.create(
        kind=OutboundKind.ACKNOWLEDGEMENT,
        team=support,
        subject="Support got {{ ticket.subject }}",
        body="Hi {{ customer.name }}, support has it.",
    )
    customer = factories.customer(email="team@customer.test", name="Tess")
    with committed():
        first = factories.ticket(requester=customer, via=Via.API, subject="A")
    assert acks(first)[0].subject.startswith("Default: A ")
    # A ticket of a team without a template gets the default; with one, the team's.
    for team, expected_subject, expected_body in (
        (billing, "Default: B", "Default body"),
        (support, "Support got B", "Hi Tess, support has it."),
    ):
        ticket = factories.ticket(requester=customer, via=Via.API, subject="B")
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": team})
        with committed():
            ack = notifications.queue_acknowledgement(ticket, inbound_was_automatic=False)
        assert ack is not None
        assert ack.subject.startswith(expected_subject)
        assert ack.body_text.strip() == expected_body


def test_html_is_autoescaped_and_text_is_not(mailbox):
    NotificationTemplate.objects.create(
        kind=OutboundKind.ACKNOWLEDGEMENT, subject="Got it", body="Hello {{ customer.name }}, <b>thanks</b>."
    )
    customer = factories.customer(email="x@customer.test", name="<script>alert(1)</script> & Co")
    ticket = factories.ticket(requester=customer, via=Via.API)
    ack = notifications.queue_acknowledgement(ticket, inbound_was_automatic=False)
    assert ack is not None
    assert "<script>" not in ack.body_html
    assert "&lt;script&gt;" in ack.body_html
    assert "<b>thanks</b>" in ack.body_html
    assert "<script>alert(1)</script> & Co" in ack.body_text


def test_a_broken_template_falls_back_to_the_built_in_text_and_is_logged(mailbox, caplog):
    NotificationTemplate.objects.create(
        kind=OutboundKind.ACKNOWLEDGEMENT, subject="Got {{ ticket.subject", body="{% if %}broken"
    )
    ticket = factories.ticket(via=Via.API, subject="Broken?")
    with caplog.at_level(logging.ERROR, logger="deskpilot.mail.notifications"):
        ack = notifications.queue_acknowledgement(ticket, inbound_was_automatic=False)
    assert ack is not None
    assert ack.subject.startswith("We received your request: Broken?")
    assert "is broken" in caplog.text


def test_an_assignment_by_someone_else_notifies_the_agent(committed, mailbox, agent):
    lead = factories.user(Role.MANAGER, name="Lee Lead")
    ticket = factories.ticket(via=Via.API, subject="Refund")
    with committed():
        actions.update_ticket(ticket, actor=lead, via=Via.WEB, changes={"assignee": agent})
    (notice,) = OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.ASSIGNMENT)
    assert notice.to == [agent.email]
    assert notice.status == DeliveryStatus.SENT
    assert notice.subject.startswith(f"Ticket #{ticket.pk} assigned to you: Refund")
    message = django_mail.outbox[-1]
    assert message.message()["Auto-Submitted"] == "auto-generated"
    assert message.message()["X-Auto-Response-Suppress"] == "All"
    assert "Lee Lead assigned" in message.body
    # The same signal again (a duplicate) sends nothing more.
    with committed():
        ticket_changed.send(sender=None, ticket_id=ticket.pk, fields=["assignee"])
    assert OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.ASSIGNMENT).count() == 1


def test_taking_a_ticket_oneself_sends_no_notice(committed, mailbox, agent):
    ticket = factories.ticket(via=Via.API)
    with committed():
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": agent})
        created = actions.create_ticket(
            actor=agent, via=Via.WEB, subject="Mine", requester=ticket.requester, body_text="x", assignee=agent
        )
    assert not OutboundMail.objects.filter(kind=OutboundKind.ASSIGNMENT, ticket__in=[ticket, created]).exists()


def test_replies_by_people_carry_no_automatic_headers(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Hello")
    (reply,) = OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.REPLY)
    assert reply.auto_submitted == ""
    headers = django_mail.outbox[-1].message()
    assert headers["Auto-Submitted"] is None
    assert headers["X-Auto-Response-Suppress"] is None


def test_templates_see_plain_values_not_the_model_graph() -> None:
    """Security review, 2026-11-23: a manager-edited template rendered with model objects could
    walk to a follower's password hash or a mailbox's IMAP password."""
    from deskpilot.accounts.models import Role
    from deskpilot.mail import notifications
    from deskpilot.mail.models import Mailbox, NotificationTemplate, OutboundKind

    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    Mailbox.objects.create(address="help@desk.example", team=team, imap_password="imap-S3CRET")
    ticket = factories.ticket(subject="Graph walk")
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": team, "followers": [agent]})
    NotificationTemplate.objects.create(
        kind=OutboundKind.ACKNOWLEDGEMENT,
        team=None,
        subject="About {{ ticket.subject }}",
        body=(
            "hash={{ ticket.followers.all.0.password }} imap={{ ticket.team.mailboxes.all.0.imap_password }} "
            "customer={{ customer.name }} number={{ ticket.pk }}"
        ),
    )
    ticket.refresh_from_db()
    rendered = notifications.render(OutboundKind.ACKNOWLEDGEMENT, None, notifications._context(ticket))
    assert rendered.subject == "About Graph walk"
    assert f"number={ticket.pk}" in rendered.text
    assert "imap-S3CRET" not in rendered.text
    assert "pbkdf2" not in rendered.text
    assert "hash= imap= " in rendered.text
