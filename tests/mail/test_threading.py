"""Threading (DOMAIN.md, "Email threading, in order of trust") with replies as real mail clients
write them: the corpus's Gmail, Outlook and Apple Mail replies, their headers pointed at a ticket."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.mail import intake, parsing, tokens
from deskpilot.mail.models import InboundStatus, MailReference
from deskpilot.tickets import actions
from deskpilot.tickets.models import LinkKind, Message, Status, Ticket, TicketLink, Via
from tests import factories
from tests.mail.conftest_inbound import SUPPORT, build, corpus_dir, ingest, mail_raw_dir, message_id_of

__all__ = ["mail_raw_dir"]

pytestmark = pytest.mark.django_db

CUSTOMER = "Megan One <megan@customer.example>"


def _first_ticket() -> Ticket:
    row = ingest(build(sender=CUSTOMER, subject="Test", text="Hi"))
    assert row.ticket is not None
    return row.ticket


def _client_reply(name: str, *, sender: str, to: str, in_reply_to: str = "", references: str = "") -> bytes:
    """A corpus reply with its addresses and threading headers rewritten."""
    raw = (corpus_dir() / "email" / "talon" / "standard_replies" / name).read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    for header, value in (("From", sender), ("To", to), ("In-Reply-To", in_reply_to), ("References", references)):
        del message[header]
        if value:
            message[header] = value
    del message["Message-ID"]
    message["Message-ID"] = f"<{name}.reply@customer.example>"
    return message.as_bytes()


@pytest.mark.parametrize("client", ["gmail.eml", "outlook.eml", "apple_mail.eml", "thunderbird.eml", "iphone.eml"])
def test_replies_from_mail_clients_thread_and_show_the_new_text(client: str) -> None:
    ticket = _first_ticket()
    original = message_id_of(ticket)
    raw = _client_reply(client, sender=CUSTOMER, to=SUPPORT, in_reply_to=original, references=original)
    row = ingest(raw)
    assert row.status == InboundStatus.PROCESSED, row.error
    assert row.ticket == ticket
    assert row.message is not None
    assert row.message.author_customer == ticket.requester
    assert row.message.body_text.startswith("Hello")
    # The quoted history stays in the original email, not in the conversation.
    assert "wrote:" not in row.message.body_text
    assert Ticket.objects.count() == 1
    assert MailReference.objects.filter(message_id_header=f"{client}.reply@customer.example", ticket=ticket).exists()


def test_references_alone_thread_and_the_newest_known_one_wins() -> None:
    first = _first_ticket()
    second = ingest(build(sender=CUSTOMER, subject="Other")).ticket
    assert second is not None
    refs = f"<unknown.1@elsewhere.example> {message_id_of(first)} {message_id_of(second)} <unknown.2@x.example>"
    row = ingest(build(sender=CUSTOMER, subject="Re: Other", references=refs))
    assert row.ticket == second


def test_a_reply_with_lost_headers_threads_by_the_subject_token() -> None:
    ticket = _first_ticket()
    raw = _client_reply("gmail.eml", sender=CUSTOMER, to=SUPPORT)
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    del message["Subject"]
    message["Subject"] = f"Re: Test {tokens.subject_tag(ticket.pk)}"
    row = ingest(message.as_bytes())
    assert row.ticket == ticket
    assert Ticket.objects.count() == 1


def test_a_reply_threads_by_the_plus_address_token() -> None:
    ticket = _first_ticket()
    row = ingest(build(sender=CUSTOMER, subject="no tag here", to=tokens.reply_address(SUPPORT, ticket.pk)))
    assert row.ticket == ticket


def test_a_bare_or_forged_ticket_number_is_not_trusted() -> None:
    ticket = _first_ticket()
    forged = f"[#{ticket.pk}-aaaaaaaa]"
    row = ingest(build(sender=CUSTOMER, subject=f"Re: Test [#{ticket.pk}] {forged}"))
    assert row.ticket is not None
    assert row.ticket != ticket


@pytest.mark.parametrize("by", ["token", "reference"])
def test_a_stranger_with_a_valid_thread_gets_a_new_linked_ticket(by: str) -> None:
    ticket = _first_ticket()
    kwargs: dict[str, Any] = (
        {"subject": f"Re: Test {tokens.subject_tag(ticket.pk)}"}
        if by == "token"
        else {"subject": "Re: Test", "in_reply_to": message_id_of(ticket)}
    )
    row = ingest(build(sender="Eve <eve@stranger.example>", text="Let me in", **kwargs))
    assert row.status == InboundStatus.PROCESSED, row.error
    new = row.ticket
    assert new is not None
    assert new != ticket
    assert new.requester.emails.get().address == "eve@stranger.example"
    assert TicketLink.objects.filter(source=new, target=ticket, kind=LinkKind.RELATED).exists()
    # Nothing of the stranger's reached the original conversation.
    assert list(ticket.messages.values_list("body_text", flat=True)) == ["Hi"]


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up() -> None:
    ticket = _first_ticket()
    agent = factories.user(Role.AGENT)
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    row = ingest(build(sender=CUSTOMER, subject="Re: Test", in_reply_to=message_id_of(ticket), text="It broke again"))
    assert row.status == InboundStatus.PROCESSED, row.error
    follow_up = row.ticket
    assert follow_up is not None
    assert follow_up != ticket
    assert TicketLink.objects.filter(source=follow_up, target=ticket, kind=LinkKind.FOLLOW_UP).exists()
    assert row.message is not None
    assert row.message.ticket == follow_up
    # The next reply to the same thread lands in the follow-up, which now owns this Message-ID.
    again = ingest(build(sender=CUSTOMER, in_reply_to=f"<{row.message_id_header}>", text="Still broken"))
    assert again.ticket == follow_up


def test_a_customer_reply_reopens_a_solved_ticket() -> None:
    ticket = _first_ticket()
    agent = factories.user(Role.AGENT)
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
    ingest(build(sender=CUSTOMER, in_reply_to=message_id_of(ticket), text="Not quite"))
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_an_agent_answering_by_email_writes_a_public_agent_reply(settings: Any) -> None:
    """When the receiving mail server vouched for the agent's domain (a trusted
    Authentication-Results header)."""
    settings.MAIL_TRUSTED_AUTHSERV_IDS = ["mx.help.example"]
    ticket = _first_ticket()
    agent = factories.user(Role.AGENT, email="Agent.Smith@help.example")
    verified = {"Authentication-Results": "mx.help.example; dkim=pass header.d=help.example; dmarc=pass"}
    row = ingest(
        build(sender="agent.smith@help.example", in_reply_to=message_id_of(ticket), text="On it.", headers=verified)
    )
    assert row.ticket == ticket
    assert row.message is not None
    assert row.message.author_user == agent
    assert row.message.public
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


@pytest.mark.parametrize(
    "headers",
    [
        {},
        # Written by the sender, not by our server: anyone can add such a header.
        {"Authentication-Results": "forged.example; dmarc=pass; dkim=pass header.d=help.example"},
        {"Authentication-Results": "mx.help.example; dkim=fail header.d=help.example; spf=softfail"},
        {"Authentication-Results": "mx.help.example; dkim=pass header.d=elsewhere.example"},
    ],
)
def test_an_unverified_agent_address_stays_an_internal_note(settings: Any, headers: dict[str, str]) -> None:
    """A customer on the thread knows its token and could forge an agent's From (security review,
    2026-11-23): unless our server vouched for it, the mail is an internal note, never public."""
    settings.MAIL_TRUSTED_AUTHSERV_IDS = ["mx.help.example"]
    ticket = _first_ticket()
    factories.user(Role.AGENT, email="agent.smith@help.example")
    row = ingest(
        build(
            sender="agent.smith@help.example", in_reply_to=message_id_of(ticket), text="Pay to IBAN X", headers=headers
        )
    )
    assert row.ticket == ticket
    assert row.message is not None
    assert not row.message.public
    assert row.message.body_text.startswith("[Sent by email from a staff address")


def test_staff_mail_can_be_trusted_by_configuration(settings: Any) -> None:
    settings.MAIL_TRUST_STAFF_FROM = True
    ticket = _first_ticket()
    factories.user(Role.AGENT, email="agent.smith@help.example")
    row = ingest(build(sender="agent.smith@help.example", in_reply_to=message_id_of(ticket), text="On it."))
    assert row.message is not None
    assert row.message.public


def test_a_collaborator_not_on_the_ticket_is_a_stranger_and_one_following_writes_a_note() -> None:
    ticket = _first_ticket()
    collaborator = factories.user(Role.COLLABORATOR, email="colla@help.example")
    outsider = ingest(build(sender="colla@help.example", in_reply_to=message_id_of(ticket), text="Hmm"))
    assert outsider.ticket != ticket
    actions.update_ticket(ticket, actor=None, via=Via.SYSTEM, changes={"followers": [collaborator]})
    follower = ingest(build(sender="colla@help.example", in_reply_to=message_id_of(ticket), text="Checked"))
    assert follower.ticket == ticket
    assert follower.message is not None
    assert not follower.message.public


def test_the_same_reply_delivered_twice_is_added_once() -> None:
    ticket = _first_ticket()
    raw = _client_reply("outlook.eml", sender=CUSTOMER, to=SUPPORT, in_reply_to=message_id_of(ticket))
    first = ingest(raw)
    second = ingest(raw, source="imap")
    assert first.ticket == ticket
    assert second.status == InboundStatus.DUPLICATE
    assert second.duplicate_of == first
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_a_message_that_crashes_the_parser_is_kept_and_threads_after_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = _first_ticket()
    calls = {"n": 0}

    def crashes_once(raw: bytes) -> parsing.ParsedMail:
        calls["n"] += 1
        if calls["n"] == 1:
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")
        return parsing.parse(raw)

    monkeypatch.setattr(intake, "parse", crashes_once)
    row = ingest(build(sender=CUSTOMER, in_reply_to=message_id_of(ticket), text="Reply"))
    assert row.status == InboundStatus.FAILED
    assert "UnicodeDecodeError while parsing" in row.error
    assert Message.objects.filter(ticket=ticket).count() == 1
    [again] = intake.retry([row.pk])
    assert again.status == InboundStatus.PROCESSED
    assert again.ticket == ticket
    assert again.attempts == 2
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_mail_to_a_merged_ticket_goes_to_the_ticket_it_was_merged_into() -> None:
    first = _first_ticket()
    second = ingest(build(sender=CUSTOMER, subject="Same problem")).ticket
    assert second is not None
    agent = factories.user(Role.AGENT)
    actions.merge_tickets(first, second, actor=agent, via=Via.WEB)
    row = ingest(build(sender=CUSTOMER, in_reply_to=message_id_of(first), text="Any news?"))
    assert row.ticket == second
