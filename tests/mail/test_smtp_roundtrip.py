# ruff: noqa: F811 - pytest fixtures imported from conftest_outbound are parameters here
"""A real SMTP round trip: a reply goes through the real delivery task and Django's SMTP backend
to an aiosmtpd server on loopback, and what the server received is read back with the stdlib."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.mail import tokens
from deskpilot.mail.models import DeliveryStatus, OutboundKind, OutboundMail
from deskpilot.tickets.attachments import IncomingFile
from tests import factories
from tests.mail.conftest_outbound import (  # noqa: F401
    Recorder,
    agent,
    committed,
    email_ticket,
    mailbox,
    replies_of,
    reply,
    smtp_server,
    unreachable_smtp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def received(server: Recorder, index: int = -1) -> EmailMessage:
    content = server.envelopes[index].content
    assert isinstance(content, bytes)
    return email.message_from_bytes(content, policy=policy.default)


def test_a_reply_arrives_with_its_headers_both_alternatives_and_the_attachment(committed, mailbox, agent, smtp_server):
    cc = factories.customer(email="dave@customer.test", name="Dave")
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    with committed():
        ticket = email_ticket(subject="Printer on fire", ccs=[cc])
        message = reply(
            ticket, agent, "Please unplug it — now.", files=[IncomingFile("smoke.png", picture, "image/png")]
        )
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.SENT, out.last_error
    (envelope,) = smtp_server.envelopes
    assert envelope.mail_from == "support@acme.test"
    assert sorted(envelope.rcpt_tos) == ["carol@customer.test", "dave@customer.test"]

    got = received(smtp_server)
    assert got["Message-ID"] == f"<{out.message_id_header}>"
    assert got["In-Reply-To"] == "<first-mail@customer.test>"
    assert got["References"] == "<first-mail@customer.test>"
    assert got["Subject"] == f"Re: Printer on fire {tokens.subject_tag(ticket.pk)}"
    assert got["Reply-To"] == tokens.reply_address("support@acme.test", ticket.pk)
    assert got["To"] == "carol@customer.test"
    assert got["Cc"] == "dave@customer.test"
    assert got["Auto-Submitted"] is None
    assert got["Date"] is not None
    text, html = got.get_body(("plain",)), got.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Please unplug it — now." in text.get_content()
    assert "Please unplug it — now." in html.get_content()
    assert "<html" in html.get_content()
    (attachment,) = list(got.iter_attachments())
    assert attachment.get_filename() == "smoke.png"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_content() == picture


def test_an_acknowledgement_arrives_marked_as_automatic(committed, mailbox, smtp_server):
    with committed():
        ticket = factories.ticket(requester=factories.customer(email="new@customer.test"))
    (ack,) = OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.ACKNOWLEDGEMENT)
    assert ack.status == DeliveryStatus.SENT, ack.last_error
    got = received(smtp_server)
    assert got["Auto-Submitted"] == "auto-replied"
    assert got["X-Auto-Response-Suppress"] == "All"
    assert got["Message-ID"] == f"<{ack.message_id_header}>"


def test_a_550_fails_the_mail_with_the_servers_answer_on_the_ticket_page(committed, mailbox, agent, smtp_server):
    smtp_server.refuse["carol@customer.test"] = "550 5.1.1 <carol@customer.test>: Recipient address rejected"
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.FAILED
    assert out.attempts == 1
    assert out.last_error == "carol@customer.test: 550 5.1.1 <carol@customer.test>: Recipient address rejected"
    assert smtp_server.envelopes == []
    client = Client()
    client.force_login(agent)
    page = " ".join(client.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode().split())
    assert "failed: carol@customer.test: 550 5.1.1 &lt;carol@customer.test&gt;: Recipient address rejected" in page
    assert "(1 attempt)" in page

    # The address is fixed on the server's side; the agent retries and it goes out.
    smtp_server.refuse.clear()
    with committed():
        assert client.post(reverse("mail:outbound_retry", args=[out.pk])).status_code == 302
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    assert len(smtp_server.envelopes) == 1


def test_a_temporary_refusal_is_retried(committed, mailbox, agent, smtp_server):
    smtp_server.refuse["carol@customer.test"] = "450 4.2.0 Mailbox busy, try later"
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert (out.status, out.attempts) == (DeliveryStatus.QUEUED, 1)
    assert "450 4.2.0 Mailbox busy" in out.last_error
    assert out.next_attempt_at is not None


def test_an_unreachable_server_leads_to_a_retry(committed, mailbox, agent, unreachable_smtp):
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert (out.status, out.attempts) == (DeliveryStatus.QUEUED, 1)
    assert f"127.0.0.1:{unreachable_smtp}" in out.last_error
    assert out.next_attempt_at is not None
