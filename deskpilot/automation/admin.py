"""Webhook subscriptions (admins and managers) and their delivery log (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from deskpilot.automation import webhooks
from deskpilot.automation.models import Automation, AutomationRun, Macro, Trigger, WebhookDelivery, WebhookSubscription
from deskpilot.core.errors import InvalidInput


class SubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in webhooks.EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )

    url = forms.URLField(max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "events", "format", "active")

    def clean_url(self) -> str:
        try:
            return webhooks.clean_url(self.cleaned_data["url"])
        except InvalidInput as error:
            raise ValidationError(error.errors["url"]) from None


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("name", "url", "format", "active", "created_at")
    list_filter = ("active", "format")
    readonly_fields = ("secret", "created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "subscription", "status", "attempts", "response_code", "created_at", "delivered_at")
    list_filter = ("status", "event_type", "subscription")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- rules ---------------------------------------------------------------------------------------
# The managers' own pages are at /manage/triggers/, /manage/automations/ and /manage/macros/; the
# admin validates with the same code (rules.store.clean_rule: rules.schema) and saves through it.


class _RuleAdminForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        from deskpilot.automation.rules import schema, store

        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        rule = self.instance
        for name, value in cleaned.items():
            setattr(rule, name, value)
        try:
            store.clean_rule(rule)
        except schema.RuleError as error:
            head = error.path.split(".")[0].split("[")[0]
            raise ValidationError(
                {head if head in self.fields else "__all__": f"{error.path}: {error.problem}"}
            ) from None
        return cleaned


class _RuleAdmin(admin.ModelAdmin):
    form = _RuleAdminForm
    list_display: tuple[str, ...] = ("name", "active", "position", "updated_at")
    list_filter = ("active",)
    ordering = ("position", "id")
    readonly_fields = ("created_by", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from deskpilot.automation.rules import store

        store.save_rule(obj, created_by=None if change else request.user)


@admin.register(Trigger)
class TriggerAdmin(_RuleAdmin):
    pass


@admin.register(Automation)
class AutomationAdmin(_RuleAdmin):
    list_display = ("name", "active", "position", "status", "clock", "hours", "business_hours")


@admin.register(Macro)
class MacroAdmin(_RuleAdmin):
    exclude = ("conditions",)


@admin.register(AutomationRun)
class AutomationRunAdmin(admin.ModelAdmin):
    list_display = ("automation", "ticket", "period_start", "acted_at")
    list_filter = ("automation",)
    readonly_fields = ("automation", "ticket", "period_start", "acted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
