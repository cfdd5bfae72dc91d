"""What the pages and the job do to scheduled reports: save a subscription with its recipients,
plan the deliveries that are due, "send now", retry a failed delivery, and when each recipient
gets the next one.

Sending itself is in ``reports.tasks``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from deskpilot.accounts.models import User
from deskpilot.core.errors import InvalidInput
from deskpilot.reports.models import (
    DeliveryStatus,
    ReportDelivery,
    ReportRecipient,
    ReportSubscription,
)
from deskpilot.reports.schedule import latest_due, local_date, next_due, period_for, zone

logger = logging.getLogger(__name__)

# The fields whose change moves the schedule: due moments before the change are not owed.
SCHEDULE_FIELDS = ("frequency", "weekday", "day_of_month", "send_hour")


@dataclass(frozen=True)
class EmailRecipient:
    email: str
    time_zone: str


def save_subscription(
    subscription: ReportSubscription | None,
    *,
    owner: User | None,
    values: dict[str, Any],
    users: Sequence[User],
    emails: Sequence[EmailRecipient],
    now: datetime.datetime | None = None,
) -> ReportSubscription:
    """Create or update a subscription and make its recipients exactly ``users`` and ``emails``
    (recipients kept keep their delivery log). ``values`` are the model's fields, checked by the
    form (reports.forms)."""
    if not users and not emails:
        raise InvalidInput("users", "choose at least one recipient (a staff member or an e-mail address)")
    now = now or timezone.now()
    with transaction.atomic():
        if subscription is None:
            subscription = ReportSubscription(owner=owner, created_at=now, schedule_changed_at=now)
        elif any(getattr(subscription, name) != values.get(name) for name in SCHEDULE_FIELDS):
            subscription.schedule_changed_at = now
        for name, value in values.items():
            setattr(subscription, name, value)
        subscription.updated_at = now
        subscription.save()
        existing = list(subscription.recipients.all())
        wanted_users = {user.pk for user in users}
        wanted_emails = {entry.email.lower(): entry for entry in emails}
        for recipient in existing:
            if recipient.user_id is not None:
                if recipient.user_id in wanted_users:
                    wanted_users.discard(recipient.user_id)
                else:
                    recipient.delete()
            elif recipient.email.lower() not in wanted_emails:
                recipient.delete()
            else:
                entry = wanted_emails.pop(recipient.email.lower())
                if entry.time_zone != recipient.time_zone:
                    recipient.time_zone = entry.time_zone
                    recipient.save(update_fields=["time_zone"])
        ReportRecipient.objects.bulk_create(
            [ReportRecipient(subscription=subscription, user_id=pk, created_at=now) for pk in sorted(wanted_users)]
            + [
                ReportRecipient(subscription=subscription, email=entry.email, time_zone=entry.time_zone, created_at=now)
                for entry in wanted_emails.values()
            ]
        )
    return subscription


def delete_subscription(subscription: ReportSubscription) -> None:
    """Delete a subscription with its recipients and delivery log. A delivery already queued is
    then found missing by the job and dropped; one being sent as this runs is sent, and its
    result has nowhere to be recorded (``tasks.deliver``)."""
    with transaction.atomic():
        subscription.delete()
    logger.info("scheduled report %s (%s) deleted", subscription.pk, subscription.name)


def recipients_prefetch() -> Prefetch:
    return Prefetch("recipients", queryset=ReportRecipient.objects.select_related("user").order_by("id"))


def next_sends(
    subscription: ReportSubscription, now: datetime.datetime | None = None
) -> list[tuple[ReportRecipient, datetime.datetime | None]]:
    """Each recipient (prefetched with their user) and the next moment they get the report
    (None while the subscription is off or the user is deactivated)."""
    now = now or timezone.now()
    result: list[tuple[ReportRecipient, datetime.datetime | None]] = []
    for recipient in subscription.recipients.all():
        off = not subscription.active or (recipient.user is not None and not recipient.user.is_active)
        moment = None if off else next_due(subscription.schedule(), zone(recipient.zone_name), now)
        result.append((recipient, moment))
    return result


def _new_delivery(
    subscription: ReportSubscription,
    recipient: ReportRecipient,
    due_at: datetime.datetime,
    *,
    now: datetime.datetime,
    manual: bool = False,
    requested_by: User | None = None,
) -> ReportDelivery:
    tz = zone(recipient.zone_name)
    start, end = period_for(subscription.period, local_date(due_at, tz))
    return ReportDelivery(
        subscription=subscription,
        recipient=recipient,
        address=recipient.address,
        time_zone=recipient.zone_name,
        due_at=due_at,
        manual=manual,
        requested_by=requested_by,
        period_start=start,
        period_end=end,
        status=DeliveryStatus.QUEUED,
        next_attempt_at=now,
        created_at=now,
    )


def plan(now: datetime.datetime | None = None) -> list[int]:
    """Create the scheduled deliveries that are due at ``now`` and not created yet; returns their
    ids. For each recipient of an active subscription only the latest due moment counts (a missed
    window is sent once when the worker comes back), and only when it is after the recipient was
    added, the schedule last changed, and the last scheduled delivery. Three queries, then one
    insert per new delivery; two workers planning at once create each delivery once (a unique
    constraint)."""
    now = now or timezone.now()
    subscriptions = list(
        ReportSubscription.objects.filter(active=True).prefetch_related(recipients_prefetch()).order_by("id")
    )
    recipients = [(s, r) for s in subscriptions for r in s.recipients.all()]
    last = dict(
        ReportDelivery.objects.filter(manual=False, recipient__in=[r.pk for _, r in recipients])
        .values("recipient")
        .annotate(latest=Max("due_at"))
        .values_list("recipient", "latest")
        .order_by()
    )
    created: list[int] = []
    for subscription, recipient in recipients:
        if recipient.user is not None and not recipient.user.is_active:
            continue
        due_at = latest_due(subscription.schedule(), zone(recipient.zone_name), now)
        if due_at < max(subscription.schedule_changed_at, recipient.created_at):
            continue
        previous = last.get(recipient.pk)
        if previous is not None and previous >= due_at:
            continue
        delivery = _new_delivery(subscription, recipient, due_at, now=now)
        try:
            with transaction.atomic():
                delivery.save()
        except IntegrityError:
            continue  # another worker planned it
        created.append(delivery.pk)
    return created


def send_now(
    subscription: ReportSubscription,
    recipient: ReportRecipient | None = None,
    *,
    actor: User | None,
    now: datetime.datetime | None = None,
) -> list[ReportDelivery]:
    """Queue a delivery now, to one recipient or to all of them, covering the period as if it
    were due today in each recipient's zone; the worker sends it at once (after commit)."""
    now = now or timezone.now()
    if not subscription.active:
        raise InvalidInput("active", "the report is off; turn it on to send it")
    chosen = [recipient] if recipient is not None else list(subscription.recipients.select_related("user"))
    if not chosen:
        raise InvalidInput("recipient", "this report has no recipients")
    for one in chosen:
        if one.subscription_id != subscription.pk:
            raise InvalidInput("recipient", "not a recipient of this report")
        if one.user is not None and not one.user.is_active:
            raise InvalidInput("recipient", f"{one.user.name} is deactivated")
    deliveries = [_new_delivery(subscription, one, now, now=now, manual=True, requested_by=actor) for one in chosen]
    # SQLite (3.35+) and PostgreSQL both return the new ids.
    ReportDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: enqueue(ids))
    return deliveries


def retry(delivery: ReportDelivery, *, now: datetime.datetime | None = None) -> None:
    """Queue a failed delivery again with a fresh round of retries. Only a failed one: the status
    condition lets one of two simultaneous clicks through."""
    now = now or timezone.now()
    requeued = ReportDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=now
    )
    if not requeued:
        raise InvalidInput("delivery", "only a failed delivery can be retried")
    delivery_id = delivery.pk
    transaction.on_commit(lambda: enqueue([delivery_id]))


def enqueue(ids: Sequence[int]) -> None:
    """Hand deliveries to the worker; if the queue is down, the sweep sends them within a minute."""
    from deskpilot.reports.tasks import deliver_report

    for delivery_id in ids:
        try:
            deliver_report(delivery_id)
        except Exception:
            logger.exception("could not enqueue report delivery %s; the sweep will send it", delivery_id)
