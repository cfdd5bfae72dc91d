"""Fixtures and helpers for the inbound mail tests (imported explicitly by each module; the
package's conftest.py belongs to the parser's tests)."""

from __future__ import annotations

import os
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from deskpilot.mail import intake
from deskpilot.mail.models import InboundMail, InboundSource, MailReference
from deskpilot.tickets.models import Ticket

SUPPORT = "support@help.example"


@pytest.fixture(autouse=True)
def mail_raw_dir(settings: Any, tmp_path: Path) -> Path:
    """Each test stores raw mail in its own directory."""
    settings.MAIL_RAW_DIR = tmp_path / "mail"
    return Path(settings.MAIL_RAW_DIR)


def corpus_dir() -> Path:
    root = os.environ.get("DESKPILOT_TESTDATA")
    if not root:
        pytest.skip("DESKPILOT_TESTDATA is not set (make test sets it)")
    return Path(root)


def build(
    *,
    sender: str = "Ann Customer <ann@customer.example>",
    to: str = SUPPORT,
    cc: str = "",
    subject: str = "Printer is on fire",
    text: str = "Hello, my printer is on fire.\n",
    html: str = "",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    inline: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]  # (cid, content type, bytes)
) -> bytes:
    """A message built with the stdlib email package."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(timezone.now())
    if message_id != "":  # "" leaves the header out
        msg["Message-ID"] = message_id if message_id is not None else make_msgid(domain="customer.example")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
        for cid, content_type, content in inline:
            maintype, subtype = content_type.split("/")
            html_part: Any = msg.get_payload()[1]  # type: ignore[index]
            html_part.add_related(content, maintype=maintype, subtype=subtype, cid=f"<{cid}>")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def ingest(raw: bytes, **kwargs: Any) -> InboundMail:
    kwargs.setdefault("source", InboundSource.PIPE)
    return intake.receive(raw, **kwargs)


def message_id_of(ticket: Ticket) -> str:
    """A Message-ID (with <>) that threads to ``ticket`` (the one it was created from)."""
    ref = MailReference.objects.filter(ticket=ticket).order_by("id").first()
    assert ref is not None, f"ticket {ticket.pk} has no Message-ID on record"
    return f"<{ref.message_id_header}>"
