"""The SMTP listener, for real: aiosmtpd on a free loopback port, mail sent with smtplib."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from deskpilot.mail.models import InboundMail, InboundStatus, Mailbox
from deskpilot.mail.smtpd import controller
from deskpilot.tickets.models import Ticket
from tests import factories
from tests.mail.conftest_inbound import SUPPORT, build, mail_raw_dir

__all__ = ["mail_raw_dir"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listener(settings: Any) -> Iterator[Controller]:
    settings.MAIL_MAX_MESSAGE_BYTES = 200_000
    smtp = controller(host="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        yield smtp
    finally:
        smtp.stop()
        smtp.handler.close()


def test_a_message_sent_over_smtp_becomes_a_ticket(listener: Controller) -> None:
    team = factories.team()
    Mailbox.objects.create(address=SUPPORT, team=team)
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client:
        refused = client.sendmail(
            "ann@customer.example", ["support+anything@help.example"], build(to="x@y.example", subject="By SMTP")
        )
    assert refused == {}
    row = InboundMail.objects.get()
    assert row.source == "smtp"
    assert row.status == InboundStatus.PROCESSED, row.error
    # The envelope recipient decides the mailbox, even when the To header names someone else.
    assert row.mailbox is not None
    assert row.mailbox.address == SUPPORT
    ticket = Ticket.objects.get()
    assert ticket.subject == "By SMTP"
    assert ticket.team == team


def test_too_large_is_refused_and_unstorable_gets_451(listener: Controller, settings: Any, tmp_path: Path) -> None:
    with smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPException) as too_big:
            client.sendmail("ann@customer.example", [SUPPORT], build(text="x" * 300_000))
        assert "552" in str(too_big.value) or "size" in str(too_big.value).lower()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    settings.MAIL_RAW_DIR = blocker
    with (
        smtplib.SMTP(listener.hostname, listener.port, timeout=10) as client,
        pytest.raises(smtplib.SMTPDataError) as refused,
    ):
        client.sendmail("ann@customer.example", [SUPPORT], build())
    assert refused.value.smtp_code == 451
    assert InboundMail.objects.count() == 0
