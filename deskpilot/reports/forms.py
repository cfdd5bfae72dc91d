"""The scheduled report form: what is sent (report, filters, period), when (frequency, day, hour)
and to whom (staff members, plain addresses with their time zone). Every problem is shown next to
the field it concerns; the filters are checked by ``analytics.performance.Filters.parse``, the
same check as the performance page's URL parameters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Team, User
from deskpilot.analytics.performance import HOURS, Filters
from deskpilot.core import delivery_log
from deskpilot.core.errors import InvalidInput
from deskpilot.core.forms import PageForm
from deskpilot.customers.models import Organization
from deskpilot.reports.actions import EmailRecipient
from deskpilot.reports.models import DeliveryStatus, Frequency, Period, ReportKind, ReportSubscription, Weekday
from deskpilot.reports.schedule import is_zone, zone_names
from deskpilot.tickets.models import Channel, Priority, TicketType

MAX_EMAILS = 50
HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]


def _choices(name: str, values: list[str]) -> dict[str, str]:
    return {"invalid_choice": f"%(value)s is not a {name}; choose from: {', '.join(values)}"}


class _UserChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} <{obj.email}> · {obj.time_zone}"


class _AgentChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ScheduleForm(PageForm):
    name = forms.CharField(max_length=100, help_text="The e-mail's subject starts with it.")
    report = forms.ChoiceField(
        choices=ReportKind.choices, initial=ReportKind.PERFORMANCE, error_messages=_choices("report", ReportKind.values)
    )
    period = forms.ChoiceField(
        label="Covers",
        choices=Period.choices,
        initial=Period.PREVIOUS_7_DAYS,
        error_messages=_choices("period", Period.values),
        help_text="Counted back from the day it is sent, in each recipient's calendar; whole days only.",
    )
    # The filters: as on the performance page.
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"), required=False, empty_label="All teams",
        error_messages={"invalid_choice": "that team does not exist (any more)"},
    )  # fmt: skip
    agent = _AgentChoice(
        queryset=User.objects.filter(role__in=AGENT_ROLES).order_by("name", "id"), required=False,
        empty_label="All agents", error_messages={"invalid_choice": "that agent does not exist (any more)"},
    )  # fmt: skip
    channel = forms.ChoiceField(
        choices=[("", "All channels"), *Channel.choices], required=False,
        error_messages=_choices("channel", list(Channel.values)),
    )  # fmt: skip
    priority = forms.ChoiceField(
        choices=[("", "All priorities"), *Priority.choices], required=False,
        error_messages=_choices("priority", list(Priority.values)),
    )  # fmt: skip
    type = forms.ChoiceField(
        choices=[("", "All types"), *TicketType.choices], required=False,
        error_messages=_choices("type", list(TicketType.values)),
    )  # fmt: skip
    # A name, not a list: a desk can have thousands of organizations.
    organization = forms.CharField(
        max_length=200, required=False, help_text="Its exact name; empty for every organization."
    )
    tag = forms.CharField(max_length=100, required=False, help_text="Only tickets with this tag; empty for all.")
    hours = forms.ChoiceField(
        label="Times in", choices=[(h, f"{h.capitalize()} hours") for h in HOURS], initial="business",
        error_messages=_choices("choice", list(HOURS)),
    )  # fmt: skip
    frequency = forms.ChoiceField(
        choices=Frequency.choices, initial=Frequency.WEEKLY, error_messages=_choices("frequency", Frequency.values)
    )
    weekday = forms.TypedChoiceField(
        label="On (weekly)", coerce=int, empty_value=None, required=False,
        choices=[("", "—"), *Weekday.choices], error_messages=_choices("weekday", [str(d) for d in Weekday.values]),
    )  # fmt: skip
    day_of_month = forms.IntegerField(
        label="Day of the month (monthly)", required=False, min_value=1, max_value=31,
        help_text="1 to 31; in a shorter month, its last day.",
        error_messages={
            "invalid": "enter a whole number from 1 to 31",
            "min_value": "enter a day from 1 to 31",
            "max_value": "enter a day from 1 to 31 (31: the last day of every month)",
        },
    )  # fmt: skip
    send_hour = forms.TypedChoiceField(
        label="At", coerce=int, choices=HOUR_CHOICES, initial=8,
        help_text="In each recipient's own time zone.", error_messages=_choices("hour", [str(h) for h in range(24)]),
    )  # fmt: skip
    active = forms.BooleanField(required=False, initial=True, help_text="Off: nothing is sent until it is on again.")
    users = _UserChoice(
        label="Staff recipients", required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
        queryset=User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("name", "id"),
        help_text="Each gets it at the hour in the time zone of their profile.",
        error_messages={"invalid_choice": "%(value)s is not an active staff member"},
    )  # fmt: skip
    emails = forms.CharField(
        label="Other recipients", required=False, widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="One address a line, optionally followed by its time zone (boss@example.com America/New_York);"
        " without one, the time zone below.",
    )  # fmt: skip
    email_time_zone = forms.ChoiceField(label="Their time zone", choices=[], initial="UTC")

    def __init__(self, *args: Any, subscription: ReportSubscription | None = None, **kwargs: Any) -> None:
        if subscription is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = initial_for(subscription)
        super().__init__(*args, **kwargs)
        zones: Any = self.fields["email_time_zone"]
        zones.choices = [(z, z) for z in zone_names()]
        self.email_recipients: list[EmailRecipient] = []

    def clean_organization(self) -> Organization | None:
        name = self.cleaned_data["organization"].strip()
        if not name:
            return None
        found = Organization.objects.filter(name__iexact=name).order_by("id").first()
        if found is None:
            raise ValidationError(f"no organization is named {name!r}")
        return found

    def _parse_emails(self, default_zone: str) -> list[EmailRecipient]:
        entries: list[EmailRecipient] = []
        seen: set[str] = set()
        lines = [line.strip() for line in self.cleaned_data.get("emails", "").splitlines() if line.strip()]
        if len(lines) > MAX_EMAILS:
            raise ValidationError(f"at most {MAX_EMAILS} addresses")
        for number, line in enumerate(lines, start=1):
            parts = line.replace(",", " ").split()
            address = parts[0]
            zone = parts[1] if len(parts) > 1 else default_zone
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"line {number}: {address!r} is not an e-mail address") from None
            if len(parts) > 2 or not is_zone(zone):
                raise ValidationError(f"line {number}: {' '.join(parts[1:])!r} is not a time zone (e.g. Europe/Paris)")
            if address.lower() not in seen:
                seen.add(address.lower())
                entries.append(EmailRecipient(address, zone))
        return entries

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        frequency = data.get("frequency")
        if frequency == Frequency.WEEKLY and data.get("weekday") is None and "weekday" not in self.errors:
            self.add_error("weekday", "choose the day of the week it is sent")
        if frequency == Frequency.MONTHLY and data.get("day_of_month") is None and "day_of_month" not in self.errors:
            self.add_error("day_of_month", "enter the day of the month it is sent (1 to 31)")
        if "emails" in data and "email_time_zone" in data:
            try:
                self.email_recipients = self._parse_emails(data["email_time_zone"])
            except ValidationError as error:
                self.add_error("emails", error)
        no_recipients = not data.get("users") and not self.email_recipients
        if no_recipients and not self.errors.get("users") and not self.errors.get("emails"):
            self.add_error("users", "choose at least one recipient (a staff member or an e-mail address)")
        if not any(name in self.errors for name in (*Filters.DIMENSIONS, "hours")):
            try:
                Filters.parse(self.filter_values(data))
            except InvalidInput as error:
                self.add_action_error(error)
        return data

    @staticmethod
    def filter_values(data: dict[str, Any]) -> dict[str, str]:
        """The filters as stored (URL parameters without the dates)."""
        values: dict[str, str] = {}
        for name in ("team", "agent", "organization"):
            if data.get(name) is not None:
                values[name] = str(data[name].pk)
        for name in ("channel", "priority", "type"):
            if data.get(name):
                values[name] = str(data[name])
        tag = (data.get("tag") or "").strip()
        if tag:
            values["tag"] = tag
        values["hours"] = str(data.get("hours") or "business")
        return values

    def values(self) -> dict[str, Any]:
        """The subscription's fields (reports.actions.save_subscription)."""
        data = self.cleaned_data
        frequency = data["frequency"]
        return {
            "name": data["name"].strip(),
            "report": data["report"],
            "period": data["period"],
            "filters": self.filter_values(data),
            "frequency": frequency,
            "weekday": data["weekday"] if frequency == Frequency.WEEKLY else None,
            "day_of_month": data["day_of_month"] if frequency == Frequency.MONTHLY else None,
            "send_hour": data["send_hour"],
            "active": data["active"],
        }


def initial_from_query(params: Any) -> dict[str, Any]:
    """A new report's filters from the performance page's URL parameters (its "Schedule this
    report" link): only those that parse, the rest left for the manager to choose."""
    initial: dict[str, Any] = {}
    for name in ("team", "agent", "channel", "priority", "type", "tag", "hours"):
        value = str(params.get(name, "")).strip()
        if value:
            try:
                Filters.parse({name: value})
            except InvalidInput:
                continue
            initial[name] = value
    raw = str(params.get("organization", "")).strip()
    if raw.isdigit():
        found = Organization.objects.filter(pk=raw).first()
        if found is not None:
            initial["organization"] = found.name
    return initial


def initial_for(subscription: ReportSubscription) -> dict[str, Any]:
    filters = subscription.filters or {}
    organization = None
    if filters.get("organization"):
        found = Organization.objects.filter(pk=filters["organization"]).first()
        organization = found.name if found is not None else ""
    recipients = list(subscription.recipients.select_related("user"))
    emails = [r for r in recipients if r.user_id is None]
    return {
        "name": subscription.name,
        "report": subscription.report,
        "period": subscription.period,
        "team": filters.get("team"),
        "agent": filters.get("agent"),
        "channel": filters.get("channel", ""),
        "priority": filters.get("priority", ""),
        "type": filters.get("type", ""),
        "organization": organization or "",
        "tag": filters.get("tag", ""),
        "hours": filters.get("hours", "business"),
        "frequency": subscription.frequency,
        "weekday": subscription.weekday,
        "day_of_month": subscription.day_of_month,
        "send_hour": subscription.send_hour,
        "active": subscription.active,
        "users": [r.user_id for r in recipients if r.user_id is not None],
        "emails": "\n".join(f"{r.email} {r.time_zone}" for r in emails),
        "email_time_zone": "UTC",
    }


class DeliveryFilterForm(delivery_log.DeliveryFilterForm):
    """The delivery log's status filter (GET)."""

    statuses = DeliveryStatus
