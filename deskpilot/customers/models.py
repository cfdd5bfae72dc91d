"""The CRM side: organizations and the customers (contacts) who write to support."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Email domains whose senders join this organization automatically (comma-free list).
    domains = models.JSONField(default=list, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    notes = models.TextField(blank=True)
    # When true, every member sees the organization's tickets in the portal and API.
    shared_tickets = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person who asks for help. They may never sign in (email only); when they do, ``user``
    is their account with the customer role."""

    name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    tier = models.CharField(max_length=20, choices=Tier.choices, blank=True, default="")
    time_zone = models.CharField(max_length=64, default="UTC")
    language = models.CharField(max_length=16, default="en")
    notes = models.TextField(blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="customer"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_email(self) -> str:
        # Uses the prefetched list when present, so lists of customers stay one query.
        emails = list(self.emails.all())
        for entry in emails:
            if entry.is_primary:
                return entry.address
        return emails[0].address if emails else ""

    @property
    def effective_tier(self) -> str:
        if self.tier:
            return self.tier
        return self.organization.tier if self.organization_id and self.organization else Tier.STANDARD


class CustomerEmail(models.Model):
    """One of a customer's addresses. Addresses are unique case-insensitively: mail from an
    address always finds the same person."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    address = models.EmailField()
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when mail to the address bounced (a delivery status notification named it), so no
    # automatic mail (acknowledgements, surveys) goes to it; cleared when the person writes again.
    bouncing_since = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(Lower("address"), name="unique_customer_email_ci")]

    def __str__(self) -> str:
        return self.address
