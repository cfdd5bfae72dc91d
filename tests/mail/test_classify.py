"""Classification: automatic replies (RFC 3834 and de-facto headers), bulk mail, bounces (DSN and
broken ones), complaints (ARF) and spam flags; and that a person's mail is left alone."""

from __future__ import annotations

import pytest

from deskpilot.mail.models import MailKind
from deskpilot.mail.parsing import parse


def _mail(headers: str, body: str = "Hello\n") -> bytes:
    base = "From: Jane <jane@example.com>\nTo: support@example.org\nSubject: Question\n"
    return (base + headers.strip("\n") + "\n\n" + body).encode()


def test_person_mail_is_normal():
    mail = parse(_mail(""))
    assert (mail.kind, mail.auto_submitted, mail.spam, mail.bounce) == (MailKind.NORMAL, False, False, None)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "X-Auto-Response-Suppress: All",
        "X-Auto-Response-Suppress: OOF",
        "Return-Path: <>",
    ],
)
def test_automatic_markers(header: str):
    mail = parse(_mail(header))
    assert mail.kind == MailKind.AUTO_REPLY
    assert mail.auto_submitted


def test_auto_submitted_no_is_a_person():
    assert parse(_mail("Auto-Submitted: no")).kind == MailKind.NORMAL


@pytest.mark.parametrize("subject", ["Automatic reply: Question", "Out of Office: back Monday", "Abwesenheitsnotiz"])
def test_out_of_office_subjects(subject: str):
    raw = f"From: jane@example.com\nSubject: {subject}\n\nI am away.\n".encode()
    assert parse(raw).kind == MailKind.AUTO_REPLY


@pytest.mark.parametrize(
    "header",
    [
        "Precedence: bulk",
        "Precedence: list",
        "Precedence: junk",
        "List-Id: <news.example.com>",
        "List-Unsubscribe: <mailto:u@x>",
    ],
)
def test_bulk_mail(header: str):
    mail = parse(_mail(header))
    assert mail.kind == MailKind.BULK
    assert mail.auto_submitted


@pytest.mark.parametrize(
    "header",
    [
        "X-Spam-Flag: YES",
        "X-Spam-Status: Yes, score=9.1 required=5.0",
        "X-Spam: yes",
        "X-MS-Exchange-Organization-SCL: 9",
        "X-Forefront-Antispam-Report: CIP:1.2.3.4;SFV:SPM;",
    ],
)
def test_spam_flags(header: str):
    assert parse(_mail(header)).spam


@pytest.mark.parametrize(
    "header", ["X-Spam-Flag: NO", "X-Spam-Status: No, score=0.1", "X-MS-Exchange-Organization-SCL: -1"]
)
def test_ham_flags(header: str):
    assert not parse(_mail(header)).spam


DSN = """From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
To: support@example.org
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; gone@example.net
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {code} User unknown

--B
Content-Type: text/rfc822-headers

From: support@example.org
Message-ID: <ticket-42@deskpilot.example.org>
Subject: Your request

--B--
"""


def test_delivery_status_bounce():
    mail = parse(DSN.format(action="failed", status="5.1.1", code="550 5.1.1").encode())
    assert mail.kind == MailKind.BOUNCE
    assert mail.bounce is not None
    assert mail.bounce.recipients == ["gone@example.net"]
    assert mail.bounce.status == "5.1.1"
    assert mail.bounce.diagnostic == "smtp; 550 5.1.1 User unknown"
    assert mail.bounce.original_message_id == "ticket-42@deskpilot.example.org"
    assert mail.bounce.permanent


def test_delayed_dsn_is_a_temporary_bounce():
    mail = parse(DSN.format(action="delayed", status="4.4.1", code="451 4.4.1").encode())
    assert mail.kind == MailKind.BOUNCE
    assert mail.bounce is not None
    assert not mail.bounce.permanent


def test_success_dsn_is_automatic_not_a_bounce():
    mail = parse(DSN.format(action="delivered", status="2.0.0", code="250 2.0.0").encode())
    assert mail.kind == MailKind.AUTO_REPLY
    assert mail.bounce is None


def test_broken_bounce_without_report_structure():
    raw = b"""From: Mail Delivery Subsystem <mailer-daemon@example.net>
To: support@example.org
Subject: Delivery Status Notification (Failure)

Delivery to the following recipient failed permanently:

     lost@example.com

Technical details of permanent failure:
550 5.1.1 The email account that you tried to reach does not exist.

----- Original message -----

From: support@example.org
To: lost@example.com
Message-ID: <orig-7@example.org>
"""
    mail = parse(raw)
    assert mail.kind == MailKind.BOUNCE
    assert mail.bounce is not None
    assert mail.bounce.recipients == ["lost@example.com"]
    assert mail.bounce.status == "5.1.1"
    assert mail.bounce.original_message_id == "orig-7@example.org"


def test_postmaster_person_is_not_a_bounce():
    raw = b"From: Bob <postmaster@example.com>\nSubject: Lunch?\n\nAre you free at 12?\n"
    mail = parse(raw)
    assert mail.kind == MailKind.NORMAL
    assert mail.bounce is None


def test_arf_complaint():
    raw = b"""From: feedback@arf.example.net
Subject: Abuse report
Content-Type: multipart/report; report-type=feedback-report; boundary="B"

--B
Content-Type: text/plain

This is an abuse report.
--B
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1

--B--
"""
    mail = parse(raw)
    assert mail.kind == MailKind.COMPLAINT
    assert mail.auto_submitted
    assert mail.bounce is None


def test_read_receipt_is_automatic():
    raw = b"""From: jane@example.com
Subject: Read: Question
Content-Type: multipart/report; report-type=disposition-notification; boundary="B"

--B
Content-Type: text/plain

Your message was read.
--B--
"""
    assert parse(raw).kind == MailKind.AUTO_REPLY
