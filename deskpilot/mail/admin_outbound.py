"""Django admin for outgoing mail: the notification templates (editable per team) and a
read-only list of every mail sent or queued, filterable by status. Imported by ``mail/admin.py``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template import Template, TemplateSyntaxError

from deskpilot.mail.models import NotificationTemplate, OutboundMail


class NotificationTemplateForm(forms.ModelForm):
    class Meta:
        model = NotificationTemplate
        fields = ["kind", "team", "subject", "body"]

    def _compiles(self, name: str) -> str:
        value = str(self.cleaned_data.get(name) or "")
        try:
            Template(value)
        except TemplateSyntaxError as error:
            raise forms.ValidationError(f"This template does not compile: {error}") from error
        return value

    def clean_subject(self) -> str:
        return self._compiles("subject")

    def clean_body(self) -> str:
        return self._compiles("body")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ("kind", "team", "subject", "updated_at")
    list_filter = ("kind",)
    list_select_related = ("team",)
    help_texts = (
        "Django template syntax; context: ticket, customer, agent, assigned_by, message, portal_url, ticket_url."
    )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.base_fields["body"].help_text = self.help_texts
        return form


@admin.register(OutboundMail)
class OutboundMailAdmin(admin.ModelAdmin):
    list_display = ("queued_at", "kind", "status", "recipients", "subject", "attempts", "sent_at", "last_error")
    list_filter = ("status", "kind")
    list_select_related = ("ticket",)
    search_fields = ("message_id_header", "subject")
    show_full_result_count = False
    ordering = ("-id",)
    readonly_fields = [f.name for f in OutboundMail._meta.fields]

    @admin.display(description="To")
    def recipients(self, obj: OutboundMail) -> str:
        return ", ".join([*obj.to, *obj.cc])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
