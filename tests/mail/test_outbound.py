# ruff: noqa: F811 - pytest fixtures imported from conftest_outbound are parameters here
"""Public agent replies are emailed: recipients, threading headers, subject token, Reply-To,
both alternatives, attachments; never internal notes, never mail that came in; exactly once."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.customers.models import CustomerEmail
from deskpilot.mail import outbound, tokens
from deskpilot.mail.models import DeliveryStatus, Mailbox, MailReference, OutboundKind, OutboundMail
from deskpilot.mail.tasks import sweep
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import Via
from deskpilot.tickets.signals import ticket_changed
from tests import factories

# Fixtures are imported by name (tests/mail/conftest.py belongs to the parsing tests).
from tests.mail.conftest_outbound import agent, committed, email_ticket, mailbox, replies_of, reply  # noqa: F401

pytestmark = pytest.mark.django_db


def sent_message(index: int = -1) -> EmailMessage:
    """The mail the backend delivered, as the recipient's parser sees it."""
    raw = django_mail.outbox[index].message().as_bytes()
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_public_agent_reply_is_emailed_threaded_to_the_requester_and_ccs(committed, mailbox, agent):
    cc = factories.customer(email="dave@customer.test", name="Dave")
    with committed():
        ticket = email_ticket(ccs=[cc])
        message = reply(ticket, agent, "Please unplug it.")
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.SENT
    assert (out.to, out.cc) == (["carol@customer.test"], ["dave@customer.test"])
    tag = tokens.subject_tag(ticket.pk)
    assert out.subject == f"Re: Printer on fire {tag}"
    assert out.message_id_header.endswith("@acme.test")
    assert out.in_reply_to == "first-mail@customer.test"
    assert out.references == "first-mail@customer.test"
    assert MailReference.objects.filter(message_id_header=out.message_id_header, ticket=ticket, outbound=True).exists()

    got = sent_message()
    assert got["Message-ID"] == f"<{out.message_id_header}>"
    assert got["List-Unsubscribe"] is None  # a person's reply is not bulk mail
    assert got["In-Reply-To"] == "<first-mail@customer.test>"
    assert got["References"] == "<first-mail@customer.test>"
    assert got["Subject"] == f"Re: Printer on fire {tag}"
    assert got["Reply-To"] == tokens.reply_address("support@acme.test", ticket.pk)
    assert tokens.tickets_in_addresses([got["Reply-To"]]) == [ticket.pk]
    assert got["From"].addresses[0].addr_spec == "support@acme.test"
    assert got["From"].addresses[0].display_name == "Alice Agent (ACME Support)"
    assert got["Auto-Submitted"] is None
    assert got["X-Auto-Response-Suppress"] is None
    text = got.get_body(("plain",))
    html = got.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Please unplug it." in text.get_content()
    assert "Please unplug it." in html.get_content()
    # The conversation's previous public message is quoted below the reply.
    assert "> My printer is on fire." in text.get_content()
    assert "My printer is on fire." in html.get_content()


def test_the_chain_grows_oldest_first_and_the_subject_tag_never_stacks(committed, mailbox, agent):
    with committed():
        ticket = email_ticket(subject="Re: RE: Printer on fire")
        first = reply(ticket, agent, "One.")
    (one,) = replies_of(first)
    # The customer answers (as intake would record it), and the agent replies again.
    MailReference.objects.create(message_id_header="answer@customer.test", ticket=ticket)
    actions.update_ticket(
        ticket, actor=agent, via=Via.WEB, changes={"subject": f"Re: Printer on fire {tokens.subject_tag(ticket.pk)}"}
    )
    with committed():
        second = reply(ticket, agent, "Two.")
    (two,) = replies_of(second)
    assert two.in_reply_to == "answer@customer.test"
    assert two.references.split() == ["first-mail@customer.test", one.message_id_header, "answer@customer.test"]
    tag = tokens.subject_tag(ticket.pk)
    assert one.subject == two.subject == f"Re: Printer on fire {tag}"
    assert sent_message()["Subject"].count(tag) == 1


def test_references_are_bounded_keeping_the_root(committed, mailbox, agent):
    with committed():
        ticket = email_ticket(message_id="root@customer.test")
    for n in range(40):
        MailReference.objects.create(message_id_header=f"m{n}@customer.test", ticket=ticket)
    with committed():
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    chain = out.references.split()
    assert len(chain) == outbound.REFERENCES_MAX
    assert chain[0] == "root@customer.test"
    assert chain[-1] == "m39@customer.test" == out.in_reply_to
    assert chain[1] == f"m{40 - outbound.REFERENCES_MAX + 1}@customer.test"


def test_attachments_travel_with_the_reply(committed, mailbox, agent):
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 10
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent, files=[IncomingFile("report.pdf", pdf, "application/pdf")])
    assert replies_of(message)[0].status == DeliveryStatus.SENT
    attachments = list(sent_message().iter_attachments())
    assert [(a.get_filename(), a.get_content()) for a in attachments] == [("report.pdf", pdf)]


def test_bouncing_addresses_are_skipped_with_the_reason(committed, mailbox, agent):
    cc = factories.customer(email="dave@customer.test")
    CustomerEmail.objects.filter(address="dave@customer.test").update(
        bouncing_since=timezone.now(), bounce_reason="550 5.1.1 user unknown"
    )
    with committed():
        ticket = email_ticket(ccs=[cc])
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert (out.to, out.cc) == (["carol@customer.test"], [])
    assert [s["address"] for s in out.skipped] == ["dave@customer.test"]
    assert "bouncing" in out.skipped[0]["reason"]
    assert "5.1.1" in out.skipped[0]["reason"]
    assert django_mail.outbox[-1].cc == []


def test_when_everyone_bounces_nothing_is_sent_and_the_reason_is_kept(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
    CustomerEmail.objects.filter(address="carol@customer.test").update(bouncing_since=timezone.now())
    outbox = len(django_mail.outbox)
    with committed():
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.SKIPPED
    assert out.skipped[0]["address"] == "carol@customer.test"
    assert len(django_mail.outbox) == outbox
    # Not sent, so not a Message-ID anyone can answer to.
    assert not MailReference.objects.filter(message_id_header=out.message_id_header).exists()


def test_our_own_mailbox_is_never_a_recipient(committed, mailbox, agent):
    loop = factories.customer(email="SUPPORT@acme.test")
    with committed():
        ticket = email_ticket(ccs=[loop])
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert out.cc == []
    assert out.skipped[0]["address"].lower() == "support@acme.test"


def test_internal_notes_are_never_sent_nor_quoted(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
        note = reply(ticket, agent, "SECRET: the customer is difficult", public=False)
        collaborator_note = reply(ticket, factories.user(Role.COLLABORATOR), "also secret", public=False)
    assert OutboundMail.objects.filter(message__in=[note, collaborator_note]).count() == 0
    with committed():
        message = reply(ticket, agent, "Public answer.")
    assert replies_of(message)[0].status == DeliveryStatus.SENT
    raw = django_mail.outbox[-1].message().as_string()
    for secret in ("SECRET", "difficult", "also secret"):
        assert secret not in raw


def test_mail_that_came_in_is_never_sent_back_out(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
        customer_reply = actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Thanks")
        # An agent answering by email (through intake) has been delivered already.
        agent_by_mail = reply(ticket, agent, "From my phone", via=Via.EMAIL)
    assert OutboundMail.objects.filter(kind=OutboundKind.REPLY).count() == 0
    assert outbound.queue_reply(customer_reply) is None
    assert outbound.queue_reply(agent_by_mail) is None


def test_customers_replies_on_the_portal_are_not_emailed(committed, mailbox):
    account = factories.customer_user()
    with committed():
        ticket = factories.ticket(requester=account.customer)
        actions.add_message(ticket, actor=account, via=Via.WEB, body_text="more info")
    assert not OutboundMail.objects.filter(kind=OutboundKind.REPLY).exists()


def test_a_duplicate_signal_and_the_sweep_never_send_twice(committed, mailbox, agent):
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    outbox = len(django_mail.outbox)
    with committed():
        ticket_changed.send(sender=None, ticket_id=ticket.pk, fields=["message"])
        ticket_changed.send(sender=None, ticket_id=ticket.pk, fields=["message", "status"])
    sweep()
    assert len(replies_of(message)) == 1
    assert len(django_mail.outbox) == outbox


def test_a_lost_signal_is_caught_by_the_sweep(mailbox, agent):
    # No committed(): the signal never fires, as if the process died right after the commit.
    ticket = email_ticket()
    message = reply(ticket, agent)
    assert replies_of(message) == []
    sweep()  # queues the reply, then sends it (jobs run inline in tests)
    (out,) = replies_of(message)
    assert out.status == DeliveryStatus.SENT
    assert len(django_mail.outbox) == 1


def test_old_messages_are_never_sent_when_email_is_set_up_later(mailbox, agent):
    ticket = email_ticket()
    actions.add_message(
        ticket, actor=agent, via=Via.WEB, body_text="long ago", at=timezone.now() - outbound.REPLY_WINDOW * 2
    )
    sweep()
    assert not OutboundMail.objects.exists()


def test_the_sender_is_the_teams_mailbox_else_the_first_else_the_default(committed, agent, settings):
    settings.DEFAULT_FROM_EMAIL = "Help <help@default.test>"
    team = factories.team(members=[agent])
    with committed():
        ticket = email_ticket()
        message = reply(ticket, agent)
    (out,) = replies_of(message)
    assert out.from_address.endswith("<help@default.test>")
    assert out.message_id_header.endswith("@default.test")
    assert out.reply_to == tokens.reply_address("help@default.test", ticket.pk)

    Mailbox.objects.create(address="first@acme.test")
    Mailbox.objects.create(address="inactive@acme.test", team=team, active=False)
    assert outbound.sender_for(ticket).address == "first@acme.test"
    Mailbox.objects.create(address="billing@acme.test", team=team)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": team})
    assert outbound.sender_for(ticket).address == "billing@acme.test"


def test_an_agent_created_ticket_is_emailed_without_re(committed, mailbox, agent):
    customer = factories.customer(email="erin@customer.test")
    with committed():
        ticket = actions.create_ticket(
            actor=agent, via=Via.WEB, subject="Your order", requester=customer, body_text="Your order shipped."
        )
    (out,) = OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.REPLY)
    assert out.subject == f"Your order {tokens.subject_tag(ticket.pk)}"
    assert out.in_reply_to == ""
    assert out.to == ["erin@customer.test"]
    assert sent_message()["In-Reply-To"] is None


def test_the_ticket_page_shows_where_the_reply_went(committed, mailbox, agent):
    cc = factories.customer(email="dave@customer.test")
    with committed():
        ticket = email_ticket(ccs=[cc])
        reply(ticket, agent)
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("tickets:ticket", args=[ticket.pk])).content.decode()
    assert "Emailed to carol@customer.test, cc dave@customer.test · sent" in " ".join(page.split())


def test_a_one_click_unsubscribe_link_goes_out_in_the_rfc_8058_headers(committed, mailbox):
    with committed():
        out = outbound.create_outbound(
            ticket=None,
            kind=OutboundKind.SURVEY,
            sender=outbound.sender_for(None),
            recipients=outbound.Recipients(to=["erin@customer.test"]),
            subject="How did we do?",
            body_text="Tell us.",
            body_html="",
            list_unsubscribe="https://desk.acme.test/feedback/abc:def/unsubscribe",
        )
    out.refresh_from_db()
    assert out.status == DeliveryStatus.SENT
    got = sent_message()
    assert got["List-Unsubscribe"] == "<https://desk.acme.test/feedback/abc:def/unsubscribe>"
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
