"""Cross-cutting records that belong to no single domain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentRequest(models.Model):
    """A remembered response to a creating POST sent with an Idempotency-Key header, replayed
    when the same client retries the same request, so a retry after a timeout creates nothing new."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # Method, path and body, hashed: the same key with a different request is a client error.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"


class Notification(models.Model):
    """An in-app notice to a staff member (an SLA breach, an escalation, a rule's "notify"),
    shown in the page header until read. Written by ``mail.notifications.notify_staff``, which
    also emails it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    text = models.TextField(blank=True)
    # What caused it ("sla:breach", "trigger:4", "escalation"), like TicketEvent.cause.
    cause = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.subject}"
