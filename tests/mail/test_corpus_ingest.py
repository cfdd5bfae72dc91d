"""Every message of the third-party corpus ($DESKPILOT_TESTDATA/email) goes through the whole
intake (store, parse, classify, thread, attachments) without failing, and ends as the ticket,
note or record its folder's expected.json says it is."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from deskpilot.core.html import html_to_text
from deskpilot.customers.models import CustomerEmail
from deskpilot.mail import parsing
from deskpilot.mail.models import InboundMail, InboundStatus, MailKind, MailReference, OutboundMail
from deskpilot.tickets.models import Message, Ticket
from tests import factories
from tests.mail.conftest_inbound import corpus_dir, ingest, mail_raw_dir

__all__ = ["mail_raw_dir"]

pytestmark = pytest.mark.django_db

NOISE = {MailKind.BOUNCE, MailKind.COMPLAINT, MailKind.AUTO_REPLY}


def _files() -> list[str]:
    import os

    root = Path(os.environ.get("DESKPILOT_TESTDATA", "")) / "email"
    if not root.is_dir():
        return ["(DESKPILOT_TESTDATA not set)"]
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".eml", ".box")]
    return sorted(str(p.relative_to(root)) for p in found)


@cache
def _expected(folder: str) -> dict[str, Any]:
    path = corpus_dir() / "email" / folder / "expected.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _expectation(name: str) -> dict[str, Any]:
    folder, _, rest = name.partition("/")
    found = _expected(folder).get(rest)
    return found if isinstance(found, dict) else {}


def _is_bounce(name: str, expected: dict[str, Any]) -> bool | None:
    if "is_bounce" in expected:
        return bool(expected["is_bounce"])
    if name.startswith(("flanker/bounce/", "zammad/")):
        return True
    kind = str(expected.get("kind", ""))
    if "DSN" in kind or "bounce" in kind or "multipart/report" in kind:
        return True
    return None


@pytest.mark.parametrize("name", _files())
def test_every_corpus_message_ingests(name: str) -> None:
    raw = (corpus_dir() / "email" / name).read_bytes()
    expected = _expectation(name)
    row = ingest(raw)
    assert row.status in (InboundStatus.PROCESSED, InboundStatus.SPAM), row.error
    assert row.error == ""
    assert row.attempts == 1

    bounce = _is_bounce(name, expected)
    if bounce is True:
        assert row.kind == MailKind.BOUNCE
    elif bounce is False:
        assert row.kind != MailKind.BOUNCE
    if name.startswith("flanker/complaints/"):
        assert row.kind == MailKind.COMPLAINT

    if row.kind in NOISE or row.status == InboundStatus.SPAM:
        # Nothing was sent to these people: nothing to attach to, and no conversation started.
        assert Ticket.objects.count() == 0
        return
    ticket = row.ticket
    assert ticket is not None
    assert row.message is not None
    message = row.message
    assert message.ticket == ticket
    assert message.body_text.strip()
    parsed = parsing.parse(raw)
    assert ticket.subject == (" ".join(parsed.subject.split())[:299] or "(no subject)") or len(parsed.subject) > 299
    assert message.attachments.count() <= len(parsed.attachments)
    if "subject" in expected and not name.startswith("zammad/"):
        assert ticket.subject == expected["subject"]
    if "ticket_title_startswith" in expected:
        assert ticket.subject.startswith(expected["ticket_title_startswith"])
    if "body_text" in expected:
        assert expected["body_text"].strip() in message.body_text
    if "body_contains" in expected:
        # In the text or the HTML the ticket page shows (their parts may differ in content).
        stored = Message.objects.get(pk=message.pk)
        assert expected["body_contains"] in stored.body_text + "\n" + html_to_text(stored.body_html)
    if "decoded_from" in expected:
        name_part, _, address = expected["decoded_from"].rpartition("<")
        email_ = CustomerEmail.objects.get(customer=ticket.requester)
        assert email_.address.lower() == address.rstrip(">").lower()
        assert ticket.requester.name == name_part.strip().strip('"')


def _bounce_files() -> list[str]:
    return [n for n in _files() if _is_bounce(n, _expectation(n) if "/" in n else {}) is True]


@pytest.mark.parametrize("name", _bounce_files())
def test_every_corpus_bounce_becomes_a_note_on_the_ticket_it_bounced_from(name: str) -> None:
    """The same bounces, now about mail Deskpilot sent: each finds the ticket (by the bounced
    Message-ID or the recipient's latest mail) and says there what failed."""
    raw = (corpus_dir() / "email" / name).read_bytes()
    parsed = parsing.parse(raw)
    bounce = parsed.bounce
    recipients = bounce.recipients if bounce else []
    if not recipients and not (bounce and bounce.original_message_id):
        pytest.skip(f"{name}: the report names neither the recipient nor the bounced message")
    ticket = factories.ticket(requester=factories.customer(email=recipients[0] if recipients else None))
    if bounce and bounce.original_message_id:
        MailReference.objects.create(message_id_header=bounce.original_message_id, ticket=ticket, outbound=True)
    for address in recipients:
        OutboundMail.objects.create(
            ticket=ticket, kind="reply", from_address="support@help.example", to=[address], subject="Re: x",
            message_id_header=f"sent-to-{address}@help.example", body_text="x",
        )  # fmt: skip
    row = ingest(raw)
    assert row.status == InboundStatus.PROCESSED, row.error
    assert row.kind == MailKind.BOUNCE
    assert row.ticket == ticket
    assert row.message is not None
    assert not row.message.public
    verb = "Delivery failed" if bounce is None or bounce.permanent else "Delivery delayed"
    assert row.message.body_text.startswith(verb)
    for address in recipients:
        assert address.lower() in row.message.body_text.lower()
    if bounce and bounce.permanent and recipients:
        marked = CustomerEmail.objects.get(address__iexact=recipients[0])
        assert marked.bouncing_since is not None
    assert InboundMail.objects.count() == 1
