"""Scheduled reports in the Django admin: read-only. They are made and changed on the managers'
pages (reports.views), whose form checks the filters, the schedule and the recipients; the admin
is for looking things up."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from deskpilot.reports.models import ReportDelivery, ReportRecipient, ReportSubscription


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecipientInline(admin.TabularInline):
    model = ReportRecipient
    fields = ("user", "email", "time_zone", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(_ReadOnly):
    list_display = ("name", "report", "frequency", "send_hour", "period", "active", "owner")
    list_filter = ("active", "frequency", "report")
    search_fields = ("name",)
    inlines = [RecipientInline]


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(_ReadOnly):
    list_display = ("subscription", "address", "due_at", "status", "attempts", "sent_at")
    list_filter = ("status", "manual")
    search_fields = ("address", "subscription__name")
    list_select_related = ("subscription",)
