"""The forms of the routing pages: an agent's availability, a team's routing settings and a
member's capacity, skills and languages. They parse what a person typed; accounts.actions decides
what is allowed, and its InvalidInput lands next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpilot.accounts.actions import CAPACITY_MAX
from deskpilot.accounts.models import Availability, RoutingMode, Team, User
from deskpilot.automation.routing import PRIORITIES, WEIGHT_MAX, weights_with_defaults
from deskpilot.core.forms import PageForm


class AvailabilityForm(PageForm):
    availability = forms.ChoiceField(choices=Availability.choices)
    # Where the page that sent the form lives (the header form is on every page).
    next = forms.CharField(required=False, widget=forms.HiddenInput)


def weight_field(priority: str) -> str:
    return f"weight_{priority}"


class TeamRoutingForm(PageForm):
    mode = forms.ChoiceField(choices=RoutingMode.choices, widget=forms.RadioSelect)
    skills_fallback = forms.BooleanField(
        required=False,
        label="When nobody available has the skills, give the ticket to the closest match",
        help_text="Otherwise it waits in the queue for someone who has them.",
    )

    def __init__(self, data: Any = None, *, team: Team) -> None:
        weights = weights_with_defaults(team.routing_weights)
        initial = {"mode": team.routing_mode, "skills_fallback": team.routing_skills_fallback}
        initial.update({weight_field(p): weights[p] for p in PRIORITIES})
        super().__init__(data, initial=initial)
        for priority in PRIORITIES:
            self.fields[weight_field(priority)] = forms.IntegerField(
                label=f"Weight of a {priority} ticket",
                min_value=1,
                max_value=WEIGHT_MAX,
                help_text="How much one open ticket of this priority counts in an agent's load.",
                widget=forms.NumberInput(attrs={"class": "input--short"}),
            )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "weights": {p: data[weight_field(p)] for p in PRIORITIES},
            "skills_fallback": data["skills_fallback"],
        }


# Where an action's error about a weight belongs on this form.
WEIGHT_FIELDS = {f"weights.{p}": weight_field(p) for p in PRIORITIES}


def _words(value: str) -> list[str]:
    """Comma-separated entries, blanks dropped."""
    return [part.strip() for part in value.split(",") if part.strip()]


class MemberRoutingForm(PageForm):
    capacity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=CAPACITY_MAX,
        help_text="Open tickets (normal priority) this agent takes at most. Empty: no limit.",
    )
    skills = forms.CharField(
        required=False,
        max_length=2000,
        help_text="Tags, separated by commas: a ticket with one of these tags prefers this agent.",
    )
    languages = forms.CharField(
        required=False,
        max_length=500,
        help_text="Language codes, separated by commas (e.g. en, de). Empty: the account's language.",
    )

    def __init__(self, data: Any = None, *, member: User) -> None:
        initial = {
            "capacity": member.capacity,
            "skills": ", ".join(member.skills or []),
            "languages": ", ".join(member.languages or []),
        }
        super().__init__(data, initial=initial, prefix=f"member-{member.pk}")
        self.member = member

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "capacity": data["capacity"],
            "skills": _words(data["skills"]),
            "languages": _words(data["languages"]),
        }
