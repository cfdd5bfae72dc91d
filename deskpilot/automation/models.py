"""Automation records. Webhooks first: subscriptions to ticket events, and a log of every
delivery attempt (response code, error, timing), so a manager can see that an integration hears
what happens."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from deskpilot.accounts.models import User


class WebhookFormat(models.TextChoices):
    JSON = "json", "JSON (signed event envelope)"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams incoming webhook"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000)
    # Event types (webhooks.EVENT_TYPES) this subscription receives.
    events = models.JSONField(default=list)
    format = models.CharField(max_length=10, choices=WebhookFormat.choices, default=WebhookFormat.JSON)
    # Signs every request (HMAC-SHA256); the receiver checks it with the same secret.
    secret = models.CharField(max_length=100, default=new_secret)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one subscription, with its delivery attempts summed up."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id}: {self.status}"


# --- rules: triggers, time-based automations, macros -------------------------------------------------
#
# Conditions and actions are JSON, validated by one function (automation.rules.schema) that the
# pages, the admin and any API share; the engine compiles them once per process (rules.engine).


class _Rule(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # Rules run in this order (lowest first); the pages move a rule up or down.
    position = models.PositiveIntegerField(default=0)
    # A list of condition objects, all of which must hold (a {"any": [...]} item holds when one
    # of its conditions does): rules.schema.CONDITION_FIELDS.
    conditions = models.JSONField(default=list, blank=True)
    # A list of action objects, applied in order: rules.schema.ACTION_TYPES.
    actions = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Bumped by every change (the pages and the admin save through rules.store): the engine's
    # cache of compiled rules is checked against the newest updated_at and the row count.
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Trigger(_Rule):
    """Runs on every ticket create and update, inside the change's transaction."""

    class Meta(_Rule.Meta):
        indexes = [models.Index(fields=["active", "position"], name="trigger_active_position")]


class AutomationClock(models.TextChoices):
    STATUS = "status", "Time in the current status"
    UPDATED = "updated", "Time since the last update"
    CREATED = "created", "Time since the ticket was created"


class Automation(_Rule):
    """Runs on a timer (rule_tasks.run_automations): acts on tickets in ``status`` whose clock
    has run ``hours`` (calendar or business hours), once per qualifying period."""

    status = models.CharField(max_length=10)
    clock = models.CharField(max_length=10, choices=AutomationClock.choices, default=AutomationClock.STATUS)
    hours = models.PositiveIntegerField()
    business_hours = models.BooleanField(default=False)

    class Meta(_Rule.Meta):
        indexes = [models.Index(fields=["active", "position"], name="automation_active_position")]


class AutomationRun(models.Model):
    """That an automation acted on a ticket for the period that began at ``period_start`` (the
    status change, update or creation its clock counts from): a rerun finds it and does nothing."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    acted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["automation", "ticket", "period_start"], name="automation_run_once"),
        ]

    def __str__(self) -> str:
        return f"automation {self.automation_id} on #{self.ticket_id} ({self.period_start:%Y-%m-%d %H:%M})"


class Macro(_Rule):
    """Applied by an agent from the ticket page: field changes (``actions``: set, assign, tags)
    and a reply rendered in a sandbox from plain values (rules.macros)."""

    reply = models.TextField(blank=True)
    reply_public = models.BooleanField(default=True, help_text="A public reply; otherwise an internal note.")

    class Meta(_Rule.Meta):
        indexes = [models.Index(fields=["active", "position"], name="macro_active_position")]
