"""The scheduled report pages in the page permission matrix (tests/test_page_permissions.py):
managers' and admins' only."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from deskpilot.reports.models import DeliveryStatus, ReportDelivery, ReportRecipient, ReportSubscription
from tests.page_matrix import Route, World, manager_page


def _subscription() -> ReportSubscription:
    """A report with one recipient and one failed delivery (made on first use in a test)."""
    existing = ReportSubscription.objects.order_by("id").first()
    if existing is not None:
        return existing
    subscription = ReportSubscription.objects.create(name="Matrix report", frequency="daily", period="previous_day")
    recipient = ReportRecipient.objects.create(subscription=subscription, email="board@example.test", time_zone="UTC")
    today = timezone.now().date()
    ReportDelivery.objects.create(
        subscription=subscription, recipient=recipient, address=recipient.email, time_zone="UTC",
        due_at=timezone.now(), period_start=today - datetime.timedelta(days=1),
        period_end=today - datetime.timedelta(days=1), status=DeliveryStatus.FAILED, attempts=4,
        last_error="421 try later",
    )  # fmt: skip
    return subscription


def _state() -> object:
    """What a refused form must leave alone: every report, recipient and delivery as it was."""
    subscriptions = sorted(
        ReportSubscription.objects.values_list("pk", "name", "filters", "frequency", "send_hour", "active")
    )
    recipients = sorted(ReportRecipient.objects.values_list("pk", "subscription_id", "user_id", "email"))
    deliveries = sorted(ReportDelivery.objects.values_list("pk", "status", "attempts", "next_attempt_at"))
    return subscriptions, recipients, deliveries


def _url(name: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(f"reports:{name}", args=[_subscription().pk])

    return url


def _retry_url(world: World) -> str:
    delivery = ReportDelivery.objects.filter(subscription=_subscription()).order_by("id").first()
    assert delivery is not None
    return reverse("reports:retry", args=[delivery.subscription_id, delivery.pk])


PAGES: dict[str, Route] = {
    "reports:schedules": Route(lambda w: reverse("reports:schedules"), manager_page()),
    "reports:schedule_new": Route(lambda w: reverse("reports:schedule_new"), manager_page()),
    "reports:schedule_edit": Route(_url("schedule_edit"), manager_page()),
    "reports:schedule_delete": Route(_url("schedule_delete"), manager_page()),
    "reports:deliveries": Route(_url("deliveries"), manager_page()),
}

FORMS: dict[str, Route] = {
    "reports:schedule_new": Route(lambda w: reverse("reports:schedule_new"), manager_page(), state=_state),
    "reports:schedule_edit": Route(_url("schedule_edit"), manager_page(), state=_state),
    "reports:schedule_delete": Route(_url("schedule_delete"), manager_page(), state=_state),
    "reports:send_now": Route(_url("send_now"), manager_page(), state=_state),
    "reports:retry": Route(_retry_url, manager_page(), state=_state),
}
