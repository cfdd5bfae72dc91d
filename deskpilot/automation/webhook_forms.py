"""The webhook subscription form. It shapes the request; webhooks.create_subscription and
update_subscription check it (http/https, addresses inside this network, known events) and their
InvalidInput is shown next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deskpilot.automation import webhooks
from deskpilot.automation.models import DeliveryStatus, WebhookFormat, WebhookSubscription
from deskpilot.core import delivery_log
from deskpilot.core.errors import InvalidInput
from deskpilot.core.forms import PageForm

EVENT_HELP = {
    "ticket.created": "a ticket was created (any channel)",
    "ticket.updated": "fields of a ticket changed (status, priority, assignee, …), with old and new values",
    "message.created": "a reply or internal note was added",
    "sla.warning": "an SLA target is about to be missed",
    "sla.breached": "an SLA target was missed",
    "ticket.escalated": "a ticket moved up its escalation ladder",
}


class SubscriptionForm(PageForm):
    name = forms.CharField(max_length=100, help_text="For you: shown in the list and the delivery log.")
    # A CharField, not a URLField: webhooks.clean_url says what is wrong (scheme, internal
    # address) in words a manager can act on, where URLField says only "Enter a valid URL".
    url = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"spellcheck": "false", "placeholder": "https://example.com/hooks/deskpilot"}),
        help_text="Where each event is POSTed: an http:// or https:// address reachable from this server.",
    )
    events = forms.MultipleChoiceField(
        choices=[(e, f"{e} — {EVENT_HELP.get(e, '')}") for e in webhooks.EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "choose at least one event",
            "invalid_choice": "%(value)s is not a known event; choose from: " + ", ".join(webhooks.EVENT_TYPES),
        },
    )
    format = forms.ChoiceField(
        choices=WebhookFormat.choices,
        initial=WebhookFormat.JSON,
        error_messages={
            "invalid_choice": "%(value)s is not a format; choose from: " + ", ".join(WebhookFormat.values),
        },
        help_text="JSON requests are signed; Slack and Teams get a line of text for their incoming-webhook URL.",
    )

    def __init__(self, *args: Any, subscription: WebhookSubscription | None = None, **kwargs: Any) -> None:
        if subscription is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": subscription.name,
                "url": subscription.url,
                "events": list(subscription.events),
                "format": subscription.format,
            }
        super().__init__(*args, **kwargs)

    def clean_url(self) -> str:
        # Checked here as well as by the action, so a bad URL is reported together with the
        # form's other mistakes rather than after they are fixed.
        try:
            return webhooks.clean_url(self.cleaned_data["url"])
        except InvalidInput as error:
            raise ValidationError(error.errors["url"]) from None

    def values(self) -> dict[str, Any]:
        """What the webhooks functions take."""
        return {key: self.cleaned_data[key] for key in ("name", "url", "events", "format")}


class DeliveryFilterForm(delivery_log.DeliveryFilterForm):
    """The delivery log's status filter (GET)."""

    statuses = DeliveryStatus
