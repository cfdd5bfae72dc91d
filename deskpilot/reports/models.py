"""Scheduled reports: a subscription (which report, its filters, the period it covers, when it
is sent), its recipients (staff users, or plain addresses with a time zone), and the delivery log
(one row per recipient and due moment, with its attempts and errors).

The schedule's arithmetic is in ``reports.schedule``; planning and sending in ``reports.tasks``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from deskpilot.reports.schedule import Schedule


class ReportKind(models.TextChoices):
    PERFORMANCE = "performance", "Performance summary"


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class Period(models.TextChoices):
    """What a delivery covers, relative to the recipient's local date on the day it is due."""

    PREVIOUS_DAY = "previous_day", "The previous day"
    PREVIOUS_7_DAYS = "previous_7_days", "The previous 7 days"
    PREVIOUS_WEEK = "previous_week", "The previous calendar week (Monday to Sunday)"
    PREVIOUS_MONTH = "previous_month", "The previous calendar month"
    LAST_30_DAYS = "last_30_days", "The last 30 days"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Claimed by a worker, being rendered and sent; back to queued once its lease has passed (a
    # worker that died).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReportSubscription(models.Model):
    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.CharField(max_length=30, choices=ReportKind.choices, default=ReportKind.PERFORMANCE)
    # The report's filters as URL parameters without the dates (team, agent, channel, priority,
    # type, organization, tag, hours: what analytics.performance.Filters.parse reads), ids as
    # text. Kept as values, not foreign keys: a deleted team must not silently widen the report to
    # every team (the e-mail says "unknown" instead).
    filters = models.JSONField(default=dict, blank=True)
    period = models.CharField(max_length=20, choices=Period.choices, default=Period.PREVIOUS_7_DAYS)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    # Weekly: the day it is sent. Monthly: the day of the month, clamped to the month's length
    # (31 means the last day).
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(null=True, blank=True)
    # The hour (0-23) each recipient receives it in their own time zone.
    send_hour = models.PositiveSmallIntegerField(default=8)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Due moments before this are never sent: a schedule created or changed at 10:00 does not
    # owe today's 08:00 report.
    schedule_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(send_hour__lte=23), name="report_send_hour_range"),
            models.CheckConstraint(
                condition=Q(day_of_month__isnull=True) | Q(day_of_month__gte=1, day_of_month__lte=31),
                name="report_day_of_month_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> Schedule:
        return Schedule(
            frequency=self.frequency, hour=self.send_hour, weekday=self.weekday, day_of_month=self.day_of_month
        )


class ReportRecipient(models.Model):
    """A staff user (their e-mail address and time zone, as they are when it is sent) or a plain
    address with the time zone chosen on the form."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    email = models.EmailField(max_length=320, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email="")) | (Q(user__isnull=True) & ~Q(email="")),
                name="report_recipient_user_or_email",
            ),
            models.UniqueConstraint(
                fields=["subscription", "user"], condition=Q(user__isnull=False), name="report_recipient_user_once"
            ),
            models.UniqueConstraint(
                fields=["subscription", "email"], condition=~Q(email=""), name="report_recipient_email_once"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return self.user.email if self.user is not None else self.email

    @property
    def zone_name(self) -> str:
        return (self.user.time_zone if self.user is not None else self.time_zone) or "UTC"

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"{self.user.name} <{self.user.email}>"
        return self.email


class ReportDelivery(models.Model):
    """One report for one recipient at one due moment. Scheduled ones are unique per recipient and
    due moment (two workers planning the same minute create one); "send now" ones are not."""

    subscription = models.ForeignKey(ReportSubscription, on_delete=models.CASCADE, related_name="deliveries")
    # Kept when the recipient is removed: the log still says to whom it went.
    recipient = models.ForeignKey(
        ReportRecipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    address = models.CharField(max_length=320)
    time_zone = models.CharField(max_length=64)
    due_at = models.DateTimeField()
    manual = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The period covered (inclusive dates; see reports.schedule on whose dates they are).
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "due_at"], condition=Q(manual=False), name="report_delivery_once_per_due"
            ),
        ]
        indexes = [
            models.Index(fields=["subscription", "created_at"], name="report_delivery_sub_created"),
            models.Index(fields=["status", "next_attempt_at"], name="report_delivery_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} to {self.address} due {self.due_at:%Y-%m-%d %H:%M}"
