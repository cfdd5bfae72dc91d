"""The inbound pipeline: raw stored first, failures kept and retried, duplicates, noise (bounces,
automatic replies, spam), CCs, refused attachments and inline images."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.customers.models import CustomerEmail
from deskpilot.mail import intake, parsing
from deskpilot.mail import raw as raw_store
from deskpilot.mail.models import (
    InboundMail,
    InboundSource,
    InboundStatus,
    Mailbox,
    MailKind,
    MailReference,
    OutboundMail,
)
from deskpilot.tickets import actions
from deskpilot.tickets.models import Attachment, Message, Status, Ticket, Via
from tests import factories
from tests.mail.conftest_inbound import SUPPORT, build, ingest, mail_raw_dir, message_id_of

__all__ = ["mail_raw_dir"]

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


def test_a_new_mail_becomes_a_ticket_with_its_raw_kept(mail_raw_dir: Path) -> None:
    team = factories.team()
    Mailbox.objects.create(address=SUPPORT, team=team)
    raw = build(subject="Re: [#12] Printer is on fire", to="Support <Support+anything@help.example>")
    row = ingest(raw)
    assert row.status == InboundStatus.PROCESSED, row.error
    assert raw_store.read(row.raw_sha256) == raw
    assert row.raw_sha256 == raw_store.sha256(raw)
    assert row.size == len(raw)
    assert row.mailbox is not None
    assert row.mailbox.address == SUPPORT
    ticket = row.ticket
    assert ticket is not None
    # Re: noise is kept as written; only signed ticket tags are removed (a bare [#12] is text).
    assert ticket.subject == "Re: [#12] Printer is on fire"
    assert ticket.channel == "email"
    assert ticket.team == team
    assert ticket.requester.name == "Ann Customer"
    assert row.message is not None
    assert row.message.via == Via.EMAIL
    assert row.message.author_customer == ticket.requester
    assert row.sender == "ann@customer.example"
    assert row.kind == MailKind.NORMAL
    assert row.processed_at
    assert MailReference.objects.filter(ticket=ticket, message_id_header=row.message_id_header).exists()


def test_empty_subject_and_signed_tag_are_tidied() -> None:
    first = ingest(build(subject="")).ticket
    assert first is not None
    assert first.subject == "(no subject)"
    from deskpilot.mail.tokens import subject_tag

    stranger_mail = build(subject=f"Fwd: Invoice {subject_tag(first.pk)}", sender="eve@elsewhere.example")
    second = ingest(stranger_mail).ticket
    assert second is not None
    assert second.pk != first.pk
    assert second.subject == "Fwd: Invoice"


def test_the_raw_and_its_row_are_kept_when_the_parser_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> Any:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(intake, "parse", broken)
    raw = build()
    row = ingest(raw)  # never raises to the caller
    assert row.status == InboundStatus.FAILED
    assert "RuntimeError while parsing" in row.error
    assert "parser bug" in row.error
    assert row.attempts == 1
    assert row.ticket is None
    assert raw_store.read(row.raw_sha256) == raw
    assert Ticket.objects.count() == 0

    # Still failing: the attempt is counted, nothing is created.
    intake.retry([row.pk])
    row.refresh_from_db()
    assert row.status == InboundStatus.FAILED
    assert row.attempts == 2

    monkeypatch.setattr(intake, "parse", parsing.parse)
    [retried] = intake.retry()
    assert retried.pk == row.pk
    assert retried.status == InboundStatus.PROCESSED, retried.error
    assert retried.error == ""
    assert Ticket.objects.count() == 1


def test_a_failure_after_parsing_rolls_back_everything_and_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("database said no")

    monkeypatch.setattr(actions, "create_ticket", refuse)
    row = ingest(build(sender="new.person@customer.example"))
    assert row.status == InboundStatus.FAILED
    assert "while creating the ticket" in row.error
    assert "database said no" in row.error
    # The customer made along the way was rolled back with the rest.
    assert not CustomerEmail.objects.filter(address="new.person@customer.example").exists()
    # The failed mail list still says who wrote, and about what.
    assert row.sender == "new.person@customer.example"
    assert row.subject == "Printer is on fire"


def test_nothing_is_accepted_when_the_raw_cannot_be_stored(settings: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MAIL_RAW_DIR = blocker
    with pytest.raises(intake.NotStored):
        ingest(build())
    assert InboundMail.objects.count() == 0


def test_the_same_message_twice_creates_nothing_new() -> None:
    raw = build(message_id="<same@customer.example>")
    first = ingest(raw)
    again = ingest(raw)
    # The same Message-ID relayed with different bytes (another Received line) is the same mail.
    relayed = ingest(b"Received: from relay.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n" + raw)
    assert first.status == InboundStatus.PROCESSED
    for row in (again, relayed):
        assert row.status == InboundStatus.DUPLICATE
        assert row.duplicate_of == first
        assert row.ticket == first.ticket
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
    # Processing a processed message again changes nothing either.
    assert intake.process(first).status == InboundStatus.PROCESSED
    assert Message.objects.count() == 1


def test_without_message_id_the_same_bytes_are_a_duplicate_but_other_bytes_are_not() -> None:
    raw = build(message_id="")
    assert b"message-id" not in raw.lower()
    first = ingest(raw)
    again = ingest(raw)
    other = ingest(build(message_id="", text="Another question"))
    assert first.status == InboundStatus.PROCESSED
    assert first.message_id_header == ""
    assert again.status == InboundStatus.DUPLICATE
    assert again.duplicate_of == first
    assert other.status == InboundStatus.PROCESSED
    assert other.ticket != first.ticket


def _bounce(original_id: str, recipient: str, status: str = "5.1.1") -> bytes:
    """A Postfix-style delivery status notification (RFC 3464)."""
    action = "failed" if status.startswith("5") else "delayed"
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.help.example>
To: {SUPPORT}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce.{status}.{recipient}@mx.help.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.help.example

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown

--BOUNDARY
Content-Type: message/rfc822

From: {SUPPORT}
To: {recipient}
Subject: Re: Printer is on fire
Message-ID: {original_id}

Our reply

--BOUNDARY--
""".replace("\n", "\r\n").encode()


def test_a_bounce_becomes_an_internal_note_and_marks_the_address() -> None:
    ticket = ingest(build(sender="ann@customer.example")).ticket
    assert ticket is not None
    agent = factories.user(Role.AGENT)
    reply = actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Please try turning it off.")
    MailReference.objects.create(message_id_header="reply.1@help.example", ticket=ticket, message=reply, outbound=True)
    row = ingest(_bounce("<reply.1@help.example>", "ann@customer.example"))
    assert row.status == InboundStatus.PROCESSED, row.error
    assert row.kind == MailKind.BOUNCE
    assert row.ticket == ticket
    note = row.message
    assert note is not None
    assert not note.public
    assert note.author_user is None
    assert note.author_customer is None
    assert note.body_text.startswith("Delivery failed to ann@customer.example: 5.1.1")
    address = CustomerEmail.objects.get(address="ann@customer.example")
    assert address.bouncing_since is not None
    assert "5.1.1" in address.bounce_reason
    ticket.refresh_from_db()
    assert Ticket.objects.count() == 1
    assert ticket.status == Status.OPEN

    # The person writes again: the address works after all.
    ingest(build(sender="ann@customer.example", in_reply_to=message_id_of(ticket), text="Back online"))
    address.refresh_from_db()
    assert address.bouncing_since is None
    assert address.bounce_reason == ""


def test_a_bounce_without_references_finds_the_ticket_of_the_latest_mail_sent_to_the_address() -> None:
    ticket = ingest(build(sender="bo@customer.example")).ticket
    assert ticket is not None
    OutboundMail.objects.create(
        ticket=ticket, kind="reply", from_address=SUPPORT, to=["Bo@customer.example"], subject="Re: x",
        message_id_header="unknown.2@help.example", body_text="x",
    )  # fmt: skip
    row = ingest(_bounce("<never-recorded@help.example>", "bo@customer.example"))
    assert row.ticket == ticket
    assert row.message is not None
    assert not row.message.public


def test_a_delayed_delivery_is_noted_but_does_not_mark_the_address() -> None:
    ticket = ingest(build(sender="cy@customer.example")).ticket
    assert ticket is not None
    MailReference.objects.create(message_id_header="reply.3@help.example", ticket=ticket, outbound=True)
    row = ingest(_bounce("<reply.3@help.example>", "cy@customer.example", status="4.4.1"))
    assert row.kind == MailKind.BOUNCE
    assert row.ticket == ticket
    assert CustomerEmail.objects.get(address="cy@customer.example").bouncing_since is None


def test_an_automatic_reply_is_noted_and_never_reopens() -> None:
    ticket = ingest(build()).ticket
    assert ticket is not None
    agent = factories.user(Role.AGENT)
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Fixed.", status=Status.SOLVED)
    auto = build(
        subject="Out of office: Printer is on fire",
        text="I am away until Monday.",
        in_reply_to=message_id_of(ticket),
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )
    row = ingest(auto)
    assert row.status == InboundStatus.PROCESSED
    assert row.kind == MailKind.AUTO_REPLY
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    assert row.message is not None
    assert not row.message.public
    assert "I am away until Monday" in row.message.body_text
    assert Ticket.objects.count() == 1

    # An automatic reply about nothing we know is recorded, and nothing is created.
    lone = ingest(build(subject="Auto: away", headers={"Auto-Submitted": "auto-replied"}))
    assert lone.status == InboundStatus.PROCESSED
    assert lone.kind == MailKind.AUTO_REPLY
    assert lone.ticket is None
    assert Ticket.objects.count() == 1


def test_spam_is_kept_for_the_spam_list_and_not_spam_processes_it() -> None:
    row = ingest(build(headers={"X-Spam-Flag": "YES", "X-Spam-Status": "Yes, score=9.1"}))
    assert row.status == InboundStatus.SPAM
    assert row.ticket is None
    assert Ticket.objects.count() == 0
    assert intake.process(row).status == InboundStatus.SPAM  # still spam unless an admin says otherwise
    released = intake.process(row, not_spam=True)
    assert released.status == InboundStatus.PROCESSED
    assert released.ticket is not None


def test_cc_addresses_become_ticket_ccs_and_join_later() -> None:
    Mailbox.objects.create(address=SUPPORT)
    agent = factories.user(Role.AGENT, email="agent@help.example")
    raw = build(to=f"{SUPPORT}, Bob <bob@customer.example>", cc="carol@customer.example, agent@help.example")
    ticket = ingest(raw).ticket
    assert ticket is not None
    assert sorted(c.emails.first().address for c in ticket.ccs.all()) == [  # type: ignore[union-attr]
        "bob@customer.example",
        "carol@customer.example",
    ]
    assert agent.email not in {c.name for c in ticket.ccs.all()}

    reply = build(cc="dave@customer.example, support+t1-aaaaaaaa@help.example", in_reply_to=message_id_of(ticket))
    row = ingest(reply)
    assert row.ticket == ticket
    assert "dave@customer.example" in {c.emails.first().address for c in ticket.ccs.all()}  # type: ignore[union-attr]
    assert not CustomerEmail.objects.filter(address__istartswith="support").exists()

    # A CC'd customer may write into the ticket.
    from_cc = ingest(build(sender="carol@customer.example", in_reply_to=message_id_of(ticket), text="Me too"))
    assert from_cc.ticket == ticket
    assert from_cc.message is not None
    assert from_cc.message.author_customer is not None
    assert from_cc.message.author_customer.emails.first().address == "carol@customer.example"  # type: ignore[union-attr]


def test_executables_are_skipped_with_a_note_and_the_rest_is_kept() -> None:
    raw = build(attachments=[("setup.exe", "application/octet-stream", EXE), ("notes.txt", "text/plain", b"hello")])
    row = ingest(raw)
    assert row.status == InboundStatus.PROCESSED, row.error
    assert row.message is not None
    names = list(row.message.attachments.values_list("filename", flat=True))
    assert names == ["notes.txt"]
    assert "setup.exe" in row.message.body_text
    assert "not accepted" in row.message.body_text


def test_an_attachment_over_the_limit_is_skipped(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    row = ingest(build(attachments=[("big.bin", "application/octet-stream", b"x" * 5000)]))
    assert row.status == InboundStatus.PROCESSED
    assert row.message is not None
    assert row.message.attachments.count() == 0
    assert "big.bin" in row.message.body_text


def test_inline_images_point_at_their_attachments() -> None:
    html = '<p>See the picture:</p><img src="cid:logo.1@customer.example" alt="logo">'
    row = ingest(build(html=html, inline=[("logo.1@customer.example", "image/png", PNG)]))
    assert row.status == InboundStatus.PROCESSED, row.error
    message = row.message
    assert message is not None
    image = Attachment.objects.get(message=message)
    assert f"/attachments/{image.pk}" in message.body_html
    assert "cid:" not in message.body_html


def test_our_own_mail_coming_back_is_ignored() -> None:
    ticket = ingest(build()).ticket
    assert ticket is not None
    MailReference.objects.create(message_id_header="ours.1@help.example", ticket=ticket, outbound=True)
    row = ingest(build(sender=SUPPORT, message_id="<ours.1@help.example>", text="Our own reply"))
    assert row.status == InboundStatus.IGNORED
    assert Message.objects.count() == 1


def test_the_acknowledgement_is_requested_for_a_person_but_not_for_list_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, bool]] = []

    import types

    fake = types.ModuleType("deskpilot.mail.outbound")
    fake.queue_acknowledgement = lambda ticket, *, inbound_was_automatic: calls.append(  # type: ignore[attr-defined]
        (ticket.pk, inbound_was_automatic)
    )
    monkeypatch.setitem(__import__("sys").modules, "deskpilot.mail.outbound", fake)
    person = ingest(build()).ticket
    bulk = ingest(build(sender="news@list.example", headers={"Precedence": "bulk", "List-Id": "<news.list.example>"}))
    # List mail may still need an answer (a ticket), but is never answered automatically.
    assert bulk.kind == MailKind.BULK
    assert bulk.ticket is not None
    assert person is not None
    assert calls == [(person.pk, False), (bulk.ticket.pk, True)]
    # A threaded reply is no new request: no acknowledgement.
    ingest(build(in_reply_to=message_id_of(person), text="More"))
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("source", "synced"),
    [(InboundSource.PIPE, True), (InboundSource.SMTP, True), (InboundSource.IMAP, True), (InboundSource.IMPORT, False)],
)
def test_mail_that_exists_nowhere_else_is_on_disk_before_it_is_accepted(
    monkeypatch: pytest.MonkeyPatch, mail_raw_dir: Path, source: str, synced: bool
) -> None:
    """Pipe, SMTP and IMAP mail is fsynced before it is accepted; an import (whose files stay
    where they are, and whose rerun skips duplicates) is not, for speed."""
    calls: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    row = intake.receive(build(subject=f"Stored via {source}"), source=source)
    assert row.status == InboundStatus.PROCESSED, row.error
    assert bool(calls) is synced


def test_a_hostile_content_id_cannot_turn_stored_html_into_script() -> None:
    """The inline-image rewrite runs after sanitising; a Content-ID with quotes and brackets must
    neither end an attribute early nor open a tag (security review, 2026-11-23)."""
    html = """<img alt="'cid:K">x'<a title=" src=x onerror=alert(document.domain) ">z</a>"""
    row = ingest(build(html=html, inline=[('K">x', "image/png", PNG)]))
    assert row.status == InboundStatus.PROCESSED, row.error
    message = row.message
    assert message is not None
    stored = message.body_html
    # What a browser would build from it: no element carries an event handler or a script.
    from html.parser import HTMLParser

    handlers: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            handlers.extend(f"{tag}.{name}" for name, _ in attrs if name.lower().startswith("on"))
            if tag == "script":
                handlers.append("script")

    Collect().feed(stored)
    assert handlers == []


def test_plain_content_ids_still_show_inline() -> None:
    html = '<img src="cid:image001.png@01D9A1B2.C3D4E5F0">'
    row = ingest(build(html=html, inline=[("image001.png@01D9A1B2.C3D4E5F0", "image/png", PNG)]))
    message = row.message
    assert message is not None
    attachment = message.attachments.get()
    assert f'src="/api/v1/attachments/{attachment.pk}"' in message.body_html


@pytest.mark.django_db(transaction=True)
def test_two_copies_processed_at_the_same_moment_make_one_ticket(mail_raw_dir: Path) -> None:
    """Two MTA pipes deliver one message (To one support address, Cc another) at once: the
    second waits for the first and becomes its duplicate (security review, 2026-11-23)."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL's concurrent transactions; SQLite's IMMEDIATE transactions serialise writers "
            "(and the in-memory test database locks tables instead of waiting)"
        )

    raw = build(subject="Delivered twice at once")
    first_inside = threading.Event()
    release_first = threading.Event()
    real_duplicate = intake._Run._duplicate
    results: dict[str, Any] = {}

    def slow_first(run: Any) -> bool:
        found = real_duplicate(run)
        if threading.current_thread().name == "first":
            first_inside.set()
            release_first.wait(10)  # hold the transaction open while the second arrives
        return found

    def worker(name: str) -> None:
        try:
            results[name] = intake.receive(raw, source=InboundSource.PIPE).status
        finally:
            connection.close()

    original = intake._Run._duplicate
    intake._Run._duplicate = slow_first  # type: ignore[method-assign,assignment]
    try:
        first = threading.Thread(target=worker, args=("first",), name="first")
        first.start()
        assert first_inside.wait(10)
        second = threading.Thread(target=worker, args=("second",), name="second")
        second.start()
        second.join(1.0)  # it must be waiting for the first (PostgreSQL: the lock; SQLite: the writer)
        release_first.set()
        first.join(20)
        second.join(20)
    finally:
        intake._Run._duplicate = original  # type: ignore[method-assign]
    assert sorted(results.values()) == sorted([InboundStatus.PROCESSED, InboundStatus.DUPLICATE])
    assert Ticket.objects.filter(subject="Delivered twice at once").count() == 1
