"""The manager's survey forms: a survey's settings and texts, the desk's survey settings, and the
reasons offered for a negative answer. They shape the request; ``feedback.actions`` checks and
writes."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpilot.accounts.models import Team
from deskpilot.core.forms import PageForm
from deskpilot.customers.models import Organization, Tier
from deskpilot.feedback.models import CsatScale, FeedbackSettings, NpsFrequency, Survey, SurveyKind

_TEXT_HINT = "You may use {{ customer.name }}, {{ ticket.pk }} and {{ ticket.subject }}."


class SurveyForm(PageForm):
    kind = forms.ChoiceField(choices=SurveyKind.choices, label="Survey")
    name = forms.CharField(max_length=200)
    active = forms.BooleanField(required=False, label="On (sent to customers)")
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="Every team without its own",
        help_text="A team's own survey is used for its tickets instead of this one.",
    )
    language = forms.CharField(
        max_length=16,
        required=False,
        help_text="A language code such as en or fr, for customers with that language; empty for any language.",
    )
    scale = forms.ChoiceField(choices=CsatScale.choices, help_text="CSAT only; CES is 1 to 7 and NPS 0 to 10.")
    delay_minutes = forms.IntegerField(
        min_value=0,
        max_value=60 * 24 * 30,
        label="Delay after the solve (minutes)",
        help_text="CSAT and CES: how long after the ticket is solved the survey goes out (1440 is a day).",
    )
    subject = forms.CharField(max_length=300, help_text=_TEXT_HINT)
    intro = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Opening", help_text=_TEXT_HINT)
    question = forms.CharField(max_length=300)
    comment_prompt = forms.CharField(max_length=300, label="Comment question")
    thanks = forms.CharField(max_length=300, label="Thank-you line")
    follow_up_negative = forms.BooleanField(
        required=False, label="Open a follow-up for the team lead when an answer is negative"
    )
    frequency = forms.ChoiceField(
        choices=[("", "Not sent on a schedule"), *NpsFrequency.choices],
        required=False,
        label="Send",
        help_text="NPS only: how often it goes to the customers below.",
    )
    segment_organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"), required=False, empty_label="Any organization",
        label="Organization",
    )  # fmt: skip
    segment_tier = forms.ChoiceField(choices=[("", "Any tier"), *Tier.choices], required=False, label="Tier")
    segment_tag = forms.CharField(
        max_length=80, required=False, label="Tag", help_text="Customers with a request carrying this tag."
    )
    segment_active_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, label="Active in the last (days)",
        help_text="Customers who opened a request in this many days; empty: any.",
    )  # fmt: skip

    FIELDS = (
        "kind", "name", "active", "team", "language", "scale", "delay_minutes", "subject", "intro", "question",
        "comment_prompt", "thanks", "follow_up_negative", "frequency", "segment_organization", "segment_tier",
        "segment_tag", "segment_active_days",
    )  # fmt: skip

    def __init__(self, data: Any = None, *, survey: Survey | None = None, initial: dict[str, Any] | None = None):
        if survey is not None:
            initial = {name: getattr(survey, name) for name in self.FIELDS}
        super().__init__(data, initial=initial)
        if survey is not None:
            # A survey's kind is what its answers mean: it is not changed afterwards.
            self.fields["kind"].disabled = True

    def clean_language(self) -> str:
        value = (self.cleaned_data.get("language") or "").strip().lower()
        if value and not all(part.isalnum() for part in value.split("-")):
            raise forms.ValidationError("is not a language code (e.g. en, fr, pt-br)")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") != SurveyKind.NPS:
            # The schedule and the segment belong to the relationship survey only.
            cleaned.update(
                frequency="", segment_organization=None, segment_tier="", segment_tag="", segment_active_days=None
            )
        return cleaned

    def action_values(self) -> dict[str, Any]:
        values = {name: self.cleaned_data[name] for name in self.FIELDS}
        values["segment_tag"] = (values["segment_tag"] or "").strip()
        return values


class SettingsForm(PageForm):
    throttle_days = forms.IntegerField(min_value=0, max_value=365, label="At most one survey per customer every (days)")
    link_days = forms.IntegerField(min_value=1, max_value=365, label="Answer links work for (days)")

    @classmethod
    def for_settings(cls, settings: FeedbackSettings) -> SettingsForm:
        return cls(initial={"throttle_days": settings.throttle_days, "link_days": settings.link_days})


class ReasonsForm(PageForm):
    kind = forms.ChoiceField(choices=SurveyKind.choices)
    reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="One per line, in the order customers see them. A line removed is no longer offered.",
    )

    def labels(self) -> list[str]:
        return [line for line in (self.cleaned_data.get("reasons") or "").splitlines() if line.strip()]
