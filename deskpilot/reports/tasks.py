"""Scheduled report jobs, run by the job worker (``deskpilot worker``).

``reports.sweep_reports`` (every minute) plans the deliveries that have come due
(``actions.plan``), then sends every queued delivery whose time has come: claimed in batches
through ``core.outbox`` like webhook deliveries and mail, each claim renewed just before its
attempt, so two workers never send the same delivery, and a worker killed mid-send leaves a claim
that expires (the row goes back to queued once its lease has passed and is sent again).

A delivery renders the report (``reports.rendering``: the PDF and the CSV) and sends it with
Django's EmailMultiAlternatives through the configured backend: OutboundMail (``mail``) belongs to
tickets and cannot carry generated attachments. A failure is recorded with the server's answer;
a permanent one (5xx, a report that cannot be built) fails at once, anything else is retried
after 5 minutes, 30 minutes and 2 hours, then failed, visible on the delivery log with a retry
button.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.core import outbox
from deskpilot.core.errors import InvalidInput
from deskpilot.mail.tasks import PermanentFailure, classify
from deskpilot.reports import rendering
from deskpilot.reports.models import DeliveryStatus, ReportDelivery

logger = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, 3rd failed attempt; the 4th failure is final.
RETRY_MINUTES = (5, 30, 120)
SWEEP_BATCH = 50
LEASE = outbox.LEASE


def build_message(delivery: ReportDelivery) -> EmailMultiAlternatives:
    """The e-mail of one delivery, its report rendered now."""
    subscription = delivery.subscription
    if not subscription.active:
        raise PermanentFailure("the report was turned off")
    user = delivery.recipient.user if delivery.recipient is not None else None
    if user is not None and not user.is_active:
        raise PermanentFailure("the recipient's account is deactivated")
    try:
        filters = rendering.filters_for(subscription, delivery.period_start, delivery.period_end)
    except InvalidInput as error:
        raise PermanentFailure(f"the report's filters are not valid any more: {error}") from error
    result = rendering.rendered(filters)
    attachments = result.attachments
    context: dict[str, Any] = {
        "subscription": subscription,
        "delivery": delivery,
        "description": filters.describe(),
        "attachments": attachments,
        "headline": result.headline,
    }
    subject = " ".join(f"{subscription.name}: {filters.start:%-d %b %Y} to {filters.end:%-d %b %Y}".split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("reports/email_report.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
        # RFC 3834: automatic mail; out-of-office replies are not wanted back.
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )
    message.attach_alternative(render_to_string("reports/email_report.html", context), "text/html")
    for attachment in attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    return message


def deliver(delivery_id: int, *, now: datetime.datetime | None = None, claimed: bool = False) -> str:
    """Render and send one delivery if it is queued and due (``claimed``: the caller holds it
    until ``now`` plus the lease). Returns the status afterwards, or "busy" when another worker
    has it or it is not due."""
    now = now or timezone.now()
    if not claimed and not outbox.claim(ReportDelivery, delivery_id, queued=DeliveryStatus.QUEUED, now=now):
        status = ReportDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return "busy" if status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING) else str(status or "missing")
    held = now + LEASE
    if not ReportDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED, next_attempt_at=held).update(
        status=DeliveryStatus.SENDING
    ):
        return "busy"
    # Every write below is conditional on this worker's claim: one that lost its lease (and whose
    # delivery another worker took over) records nothing.
    mine = ReportDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING, next_attempt_at=held)
    delivery = ReportDelivery.objects.select_related("subscription", "recipient__user").filter(pk=delivery_id).first()
    if delivery is None:  # its subscription was deleted between the claim and now
        return "missing"
    attempts = delivery.attempts + 1
    try:
        if not build_message(delivery).send(fail_silently=False):
            raise smtplib.SMTPException("the mail backend accepted nothing")
    except Exception as error:
        permanent, answer = classify(error)
        if permanent or attempts > len(RETRY_MINUTES):
            mine.update(status=DeliveryStatus.FAILED, attempts=attempts, last_error=answer, next_attempt_at=None)
            logger.warning("report delivery %s failed after %d attempt(s): %s", delivery_id, attempts, answer)
            return DeliveryStatus.FAILED
        retry_at = now + datetime.timedelta(minutes=RETRY_MINUTES[attempts - 1])
        mine.update(status=DeliveryStatus.QUEUED, attempts=attempts, last_error=answer, next_attempt_at=retry_at)
        logger.info("report delivery %s: attempt %d failed (%s); retry at %s", delivery_id, attempts, answer, retry_at)
        return DeliveryStatus.QUEUED
    mine.update(
        status=DeliveryStatus.SENT, attempts=attempts, last_error="", next_attempt_at=None, sent_at=timezone.now()
    )
    return DeliveryStatus.SENT


def release_expired(now: datetime.datetime) -> int:
    """Deliveries left "sending" by a worker that died: queued again once their lease passed."""
    return ReportDelivery.objects.filter(status=DeliveryStatus.SENDING, next_attempt_at__lte=now).update(
        status=DeliveryStatus.QUEUED
    )


def sweep(now: datetime.datetime | None = None) -> int:
    """Plan what has come due, then attempt every queued delivery whose time has come. Returns
    how many were attempted."""
    from deskpilot.reports.actions import plan

    now = now or timezone.now()
    try:
        plan(now)
    except Exception:
        logger.exception("scheduled reports could not be planned")
    release_expired(now)
    attempted = 0
    while True:
        ids = outbox.claim_due(ReportDelivery, queued=DeliveryStatus.QUEUED, now=now, limit=SWEEP_BATCH)
        for delivery_id in ids:
            # Rendering and sending one after another can outlast the batch's lease: each claim is
            # renewed at its attempt, and one another worker took meanwhile is left to it.
            moment = max(now, timezone.now())
            if not outbox.renew(
                ReportDelivery, delivery_id, queued=DeliveryStatus.QUEUED, held_until=now + LEASE, now=moment
            ):
                continue
            try:
                deliver(delivery_id, now=moment, claimed=True)
                attempted += 1
            except Exception:
                logger.exception("report delivery %s could not be attempted", delivery_id)
        if len(ids) < SWEEP_BATCH:
            return attempted


@db_task(name="reports.deliver_report")
def deliver_report(delivery_id: int) -> str:
    return deliver(delivery_id)


# Every minute, like the mail and webhook sweeps: each worker's scheduler enqueues it, and the
# claims make overlapping runs harmless.
@db_periodic_task(crontab(minute="*"), name="reports.sweep_reports")
def sweep_reports() -> int:
    return sweep()
