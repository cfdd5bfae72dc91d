"""The email channel in the Django admin: mailboxes (the IMAP password write-only) and received
mail (read-only, filtered by status and kind, with a retry action)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from deskpilot.mail import (
    admin_outbound,  # noqa: F401
    intake,
)
from deskpilot.mail.forms_inbound import MailboxForm
from deskpilot.mail.models import InboundMail, InboundStatus, Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["address", "name", "team", "active", "imap_host", "after_import", "last_polled_at", "last_error"]
    list_filter = ["active", "team"]
    search_fields = ["address", "name"]
    readonly_fields = ["last_polled_at", "last_error", "created_at"]
    fieldsets = [
        (None, {"fields": ["address", "name", "team", "active", "send_acknowledgement"]}),
        (
            "IMAP (optional: without it, mail arrives by pipe or the SMTP listener)",
            {
                "fields": [
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_user",
                    "imap_password",
                    "imap_folder",
                    "after_import",
                    "move_to_folder",
                ]
            },
        ),
        ("Last poll", {"fields": ["last_polled_at", "last_error", "created_at"]}),
    ]


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "sender", "subject", "status", "kind", "source", "mailbox", "ticket", "attempts"]
    list_filter = ["status", "kind", "source", "mailbox"]
    search_fields = ["sender", "subject", "message_id_header", "raw_sha256"]
    date_hierarchy = "received_at"
    list_select_related = ["mailbox", "ticket"]
    actions = ["retry"]
    readonly_fields = ["original"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["original", *(f.name for f in InboundMail._meta.fields)]

    @admin.display(description="Original")
    def original(self, obj: InboundMail) -> str:
        return format_html('<a href="{}">View the original email</a>', reverse("mail_inbound:inbound", args=[obj.pk]))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # mail arrives by mail

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None and request.method == "POST" else super().has_change_permission(request, obj)

    @admin.action(description="Process the selected failed email again")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> None:
        failed = list(queryset.filter(status=InboundStatus.FAILED).values_list("pk", flat=True))
        results = intake.retry(failed)
        still = sum(1 for r in results if r.status == InboundStatus.FAILED)
        summary = f"Retried {len(results)} email(s); {len(results) - still} processed, {still} still failing."
        self.message_user(request, summary, messages.WARNING if still else messages.SUCCESS)
