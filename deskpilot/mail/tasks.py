"""Delivery of outgoing mail, run by the job worker (``deskpilot worker``).

``mail.send_outbound`` sends one OutboundMail through Django's email backend. A mail is claimed
before it is sent (its ``next_attempt_at`` pushed a lease ahead, by a conditional UPDATE), so two
workers, a duplicate job, or the job and the sweep never send it twice; no transaction stays open
while the SMTP server talks (on SQLite that would block every writer).

A failure records the server's answer in ``last_error``: a permanent one (5xx) fails the mail at
once; anything else (4xx, a server that cannot be reached) is retried after
DESKPILOT_MAIL_RETRY_MINUTES, until DESKPILOT_MAIL_MAX_ATTEMPTS attempts, then failed. The
sweep (``mail.sweep_outbound``, every minute) sends what is due, so a lost job never loses a mail,
and queues replies whose signal was lost.
"""

from __future__ import annotations

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.core import outbox
from deskpilot.mail.models import DeliveryStatus, OutboundMail
from deskpilot.tickets import attachments as attachment_files
from deskpilot.tickets.models import Attachment

logger = logging.getLogger(__name__)

# How long a claimed mail is left to its worker before the sweep may take it over (a worker that
# died mid-send): core.outbox's lease, far longer than an SMTP conversation.
LEASE = outbox.LEASE
SWEEP_BATCH = 200


class PermanentFailure(Exception):
    """Retrying cannot help: the server refused for good (5xx), or the mail cannot be built."""


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def classify(error: BaseException) -> tuple[bool, str]:
    """(permanent, the server's answer or what went wrong)."""
    if isinstance(error, PermanentFailure):
        return True, str(error)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = {address: _answer(code, text) for address, (code, text) in error.recipients.items()}
        permanent = all(code >= 500 for code, _ in error.recipients.values())
        return permanent, "; ".join(f"{address}: {answer}" for address, answer in answers.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500, _answer(error.smtp_code, error.smtp_error)
    if isinstance(error, smtplib.SMTPException):
        return False, f"{type(error).__name__}: {error}"
    if isinstance(error, OSError):
        return False, f"cannot reach the mail server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}: {error}"
    return False, f"{type(error).__name__}: {error}"


def build_message(mail: OutboundMail) -> EmailMultiAlternatives:
    headers = {"Message-ID": f"<{mail.message_id_header}>"}
    if mail.in_reply_to:
        headers["In-Reply-To"] = f"<{mail.in_reply_to}>"
    if mail.references:
        headers["References"] = " ".join(f"<{ref}>" for ref in mail.references.split())
    if mail.auto_submitted:
        headers["Auto-Submitted"] = mail.auto_submitted
        headers["X-Auto-Response-Suppress"] = "All"
    if mail.list_unsubscribe:
        # RFC 8058: the provider's unsubscribe button POSTs "List-Unsubscribe=One-Click" there.
        headers["List-Unsubscribe"] = f"<{mail.list_unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=mail.from_address,
        to=list(mail.to),
        cc=list(mail.cc),
        reply_to=[mail.reply_to] if mail.reply_to else None,
        headers=headers,
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    if mail.message_id and mail.kind == "reply":
        for attachment in Attachment.objects.filter(message_id=mail.message_id).order_by("id"):
            path = attachment_files.path_for(attachment.sha256)
            try:
                content = path.read_bytes()
            except OSError as error:
                raise PermanentFailure(f"attachment {attachment.filename!r} cannot be read: {error}") from error
            message.attach(attachment.filename, content, attachment.content_type)
    return message


def deliver(outbound_id: int, *, now: datetime.datetime | None = None, claimed: bool = False) -> str:
    """Send one mail if it is queued and due; returns its status afterwards (or "busy" when it
    is not due or another worker has it)."""
    now = now or timezone.now()
    if not claimed and not outbox.claim(OutboundMail, outbound_id, queued=DeliveryStatus.QUEUED, now=now):
        return "busy"
    mail = OutboundMail.objects.get(pk=outbound_id)
    attempts = mail.attempts + 1
    current = OutboundMail.objects.filter(pk=outbound_id, status=DeliveryStatus.QUEUED)
    try:
        sent = build_message(mail).send(fail_silently=False)
        if not sent:
            raise smtplib.SMTPException("the mail backend accepted nothing")
    except Exception as error:
        permanent, answer = classify(error)
        if permanent or attempts >= settings.MAIL_MAX_ATTEMPTS:
            current.update(status=DeliveryStatus.FAILED, attempts=attempts, last_error=answer, next_attempt_at=None)
            logger.warning("outbound mail %s failed after %d attempt(s): %s", outbound_id, attempts, answer)
            return DeliveryStatus.FAILED
        minutes = settings.MAIL_RETRY_MINUTES[min(attempts, len(settings.MAIL_RETRY_MINUTES)) - 1]
        retry_at = timezone.now() + datetime.timedelta(minutes=minutes)
        current.update(attempts=attempts, last_error=answer, next_attempt_at=retry_at)
        logger.info("outbound mail %s: attempt %d failed (%s); retry at %s", outbound_id, attempts, answer, retry_at)
        try:
            send_outbound.schedule(args=(outbound_id,), delay=minutes * 60)
        except Exception:
            logger.exception("could not schedule the retry of outbound mail %s; the sweep will", outbound_id)
        return DeliveryStatus.QUEUED
    current.update(status=DeliveryStatus.SENT, attempts=attempts, sent_at=timezone.now(), next_attempt_at=None)
    return DeliveryStatus.SENT


def claim_due(now: datetime.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """Claim up to ``limit`` queued mails whose time has come (core.outbox)."""
    return outbox.claim_due(OutboundMail, queued=DeliveryStatus.QUEUED, now=now, limit=limit)


def sweep(now: datetime.datetime | None = None) -> int:
    """Queue replies whose signal was lost, then send every mail that is due. Returns how many
    mails were attempted."""
    from deskpilot.mail.outbound import queue_pending_replies

    try:
        queue_pending_replies()
    except Exception:
        logger.exception("the sweep could not queue pending replies")
    now = now or timezone.now()
    attempted = 0
    while True:
        ids = claim_due(now)
        for outbound_id in ids:
            try:
                deliver(outbound_id, now=now, claimed=True)
            except Exception:
                logger.exception("outbound mail %s could not be delivered", outbound_id)
        attempted += len(ids)
        if len(ids) < SWEEP_BATCH:
            return attempted


@db_task(name="mail.ticket_changed")
def mail_for_ticket_change(ticket_id: int, fields: list[str]) -> None:
    """The mail a ticket change calls for, composed here in the worker (see outbound.on_ticket_changed)."""
    from deskpilot.mail.outbound import handle_ticket_change

    handle_ticket_change(ticket_id, fields)


@db_task(name="mail.send_outbound")
def send_outbound(outbound_id: int) -> str:
    """Send one OutboundMail (idempotent: a sent, failed or claimed mail is left alone)."""
    return deliver(outbound_id)


# Every minute. Each worker's scheduler enqueues it; the claims make overlapping runs harmless.
@db_periodic_task(crontab(minute="*"), name="mail.sweep_outbound")
def sweep_outbound() -> int:
    return sweep()


from deskpilot.mail import intake_tasks  # noqa: E402, F401  (registers the inbound tasks)
