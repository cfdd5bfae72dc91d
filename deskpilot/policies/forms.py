"""Forms of the managers' policy pages. They only shape the request into an action's arguments:
the actions (``policies.sla_actions``, ``policies.actions``) validate, and their InvalidInput is
shown next to the field it names (``targets.urgent.first_reply`` → that cell of the matrix)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import time
from typing import Any

from django import forms

from deskpilot.accounts.models import Team
from deskpilot.core.errors import InvalidInput
from deskpilot.core.forms import PageForm
from deskpilot.customers.models import Organization, Tier
from deskpilot.policies.models import (
    BusinessCalendar,
    EscalationLevel,
    EscalationPolicy,
    SlaMetric,
    SlaPolicy,
    Weekday,
    known_time_zones,
)
from deskpilot.policies.sla_actions import PRIORITIES, PRIORITY_METRICS
from deskpilot.tickets.models import Channel, Priority, TicketType


def _choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class ActionChoiceField(forms.ChoiceField):
    """A choice the action checks (so a bad value gets the action's explanation, not Django's)."""

    def validate(self, value: Any) -> None:
        if self.required and value in self.empty_values:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class ActionMultipleChoiceField(forms.MultipleChoiceField):
    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


def _checkboxes(choices: Any, label: str, help_text: str = "") -> ActionMultipleChoiceField:
    return ActionMultipleChoiceField(
        choices=choices, required=False, label=label, help_text=help_text, widget=forms.CheckboxSelectMultiple
    )


def _minutes_input() -> forms.CharField:
    return forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6, "class": "minutes", "autocomplete": "off"}),
    )


def _business_input(initial: bool, label: str) -> forms.BooleanField:
    return forms.BooleanField(
        required=False, initial=initial, label=label, widget=forms.CheckboxInput(attrs={"aria-label": label})
    )


METRIC_LABELS = dict(SlaMetric.choices)
PRIORITY_LABELS = dict(Priority.choices)


def target_field(priority: str, metric: str) -> str:
    return f"targets_{priority}_{metric}"


def ownership_field(team_id: int) -> str:
    return f"group_ownership_{team_id}"


@dataclass
class MatrixCell:
    minutes: forms.BoundField
    business: forms.BoundField
    label: str


@dataclass
class MatrixRow:
    key: str
    label: str
    cells: list[MatrixCell]


class SlaPolicyForm(PageForm):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(required=False, initial=True, help_text="Inactive policies are never matched.")
    priorities = _checkboxes(Priority.choices, "Priorities")
    channels = _checkboxes(Channel.choices, "Channels")
    types = _checkboxes(TicketType.choices, "Ticket types")
    tiers = _checkboxes(Tier.choices, "Customer tiers")
    teams = ActionMultipleChoiceField(required=False, label="Teams", widget=forms.CheckboxSelectMultiple)
    organizations = ActionMultipleChoiceField(
        required=False,
        label="Organizations",
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    tags = forms.CharField(
        required=False, max_length=2000, help_text="Comma-separated; a ticket with any of them matches."
    )
    calendar = ActionChoiceField(
        required=False,
        label="Business-hours calendar",
        help_text="Business-hour targets count on it; when empty, on the team's, the organization's or the default.",
    )
    warning_percent = forms.CharField(
        required=False,
        label="Warn at (% elapsed)",
        help_text="1 to 99; empty for no warnings.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
    )
    escalation = ActionChoiceField(required=False, label="Escalation policy")

    def __init__(self, *args: Any, policy: SlaPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy
        teams = list(Team.objects.order_by("name").values_list("pk", "name"))
        self.team_names = dict(teams)
        if policy is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial(policy)
        super().__init__(*args, **kwargs)
        _choices(self, "teams", [(str(pk), name) for pk, name in teams])
        _choices(
            self,
            "organizations",
            [(str(pk), name) for pk, name in Organization.objects.order_by("name").values_list("pk", "name")],
        )
        _choices(
            self,
            "calendar",
            [("", "— the team's, organization's or default —")]
            + [(str(pk), name) for pk, name in BusinessCalendar.objects.order_by("name").values_list("pk", "name")],
        )
        _choices(
            self,
            "escalation",
            [("", "— none —")]
            + [(str(pk), name) for pk, name in EscalationPolicy.objects.order_by("name").values_list("pk", "name")],
        )
        new = policy is None
        for metric in PRIORITY_METRICS:
            for priority in PRIORITIES:
                name = target_field(priority, metric)
                self.fields[name] = _minutes_input()
                self.fields[name].label = f"{METRIC_LABELS[metric]}, {PRIORITY_LABELS[priority]}: minutes"
                self.fields[f"{name}_business"] = _business_input(
                    new, f"{METRIC_LABELS[metric]}, {PRIORITY_LABELS[priority]}: in business hours"
                )
        for team_id, team_name in teams:
            name = ownership_field(team_id)
            self.fields[name] = _minutes_input()
            self.fields[name].label = f"Group ownership, {team_name}: minutes"
            self.fields[f"{name}_business"] = _business_input(new, f"Group ownership, {team_name}: in business hours")

    @staticmethod
    def _initial(policy: SlaPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name,
            "description": policy.description,
            "active": policy.active,
            "priorities": policy.priorities,
            "channels": policy.channels,
            "types": policy.types,
            "tiers": policy.tiers,
            "teams": [str(t) for t in policy.teams],
            "organizations": [str(o) for o in policy.organizations],
            "tags": ", ".join(policy.tags),
            "calendar": str(policy.calendar_id or ""),
            "warning_percent": "" if policy.warning_percent is None else str(policy.warning_percent),
            "escalation": str(policy.escalation_id or ""),
        }
        for target in policy.targets.all():
            if target.metric == SlaMetric.GROUP_OWNERSHIP:
                if target.team_id is None:
                    continue
                name = ownership_field(target.team_id)
            else:
                name = target_field(target.priority, target.metric)
            initial[name] = str(target.minutes)
            initial[f"{name}_business"] = target.business_hours
        return initial

    # --- what the template draws -----------------------------------------------------------------

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[n] for n in ("priorities", "teams", "organizations", "tiers", "channels", "types", "tags")]

    def matrix(self) -> list[MatrixRow]:
        rows = []
        for metric in PRIORITY_METRICS:
            cells = []
            for priority in PRIORITIES:
                name = target_field(priority, metric)
                cells.append(MatrixCell(self[name], self[f"{name}_business"], PRIORITY_LABELS[priority]))
            rows.append(MatrixRow(metric, METRIC_LABELS[metric], cells))
        return rows

    def ownership(self) -> list[MatrixRow]:
        rows = []
        for team_id, team_name in self.team_names.items():
            name = ownership_field(team_id)
            rows.append(MatrixRow(str(team_id), team_name, [MatrixCell(self[name], self[f"{name}_business"], "")]))
        return rows

    # --- to the action ---------------------------------------------------------------------------

    def action_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data.get(name)
            for name in (
                "name",
                "description",
                "active",
                "priorities",
                "channels",
                "types",
                "tiers",
                "teams",
                "organizations",
                "calendar",
                "warning_percent",
                "escalation",
            )
        }
        values["tags"] = [t for t in (part.strip() for part in (data.get("tags") or "").split(",")) if t]
        values["targets"] = {
            priority: {
                metric: {
                    "minutes": data.get(target_field(priority, metric)) or "",
                    "business_hours": bool(data.get(target_field(priority, metric) + "_business")),
                }
                for metric in PRIORITY_METRICS
            }
            for priority in PRIORITIES
        }
        values["group_ownership"] = {
            team_id: {
                "minutes": data.get(ownership_field(team_id)) or "",
                "business_hours": bool(data.get(ownership_field(team_id) + "_business")),
            }
            for team_id in self.team_names
        }
        return values

    def field_map(self) -> dict[str, str]:
        mapping = {}
        for metric in PRIORITY_METRICS:
            for priority in PRIORITIES:
                mapping[f"targets.{priority}.{metric}"] = target_field(priority, metric)
                mapping[f"targets.{priority}.{metric}.business_hours"] = target_field(priority, metric) + "_business"
        for team_id in self.team_names:
            mapping[f"group_ownership.{team_id}"] = ownership_field(team_id)
            mapping[f"group_ownership.{team_id}.business_hours"] = ownership_field(team_id) + "_business"
        return mapping


class EscalationPolicyForm(PageForm):
    name = forms.CharField(max_length=200)
    on_warning = forms.BooleanField(required=False, label="When a target reaches its warning threshold")
    on_breach = forms.BooleanField(required=False, initial=True, label="When a target is breached")
    metrics = _checkboxes(SlaMetric.choices, "Metrics", "None ticked: all of them.")
    notify_assignee = forms.BooleanField(required=False, initial=True, label="Notify the assignee")
    notify_team_lead = forms.BooleanField(required=False, initial=True, label="Notify the team lead")
    notify_emails = forms.CharField(
        required=False,
        label="Also email",
        help_text="Addresses separated by commas or one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    raise_priority = forms.BooleanField(
        required=False, label="Raise the priority one step", help_text="low → normal → high → urgent"
    )
    move_to_team = ActionChoiceField(required=False, label="Move to team")
    escalate_to = ActionChoiceField(
        required=False, label="Escalate to", choices=[("", "— stay —"), *EscalationLevel.choices]
    )
    add_lead_as_follower = forms.BooleanField(required=False, label="Add the team lead as a follower")
    add_tag = forms.CharField(required=False, max_length=200, label="Add tag")

    CHECKBOXES = (
        "on_warning",
        "on_breach",
        "notify_assignee",
        "notify_team_lead",
        "raise_priority",
        "add_lead_as_follower",
    )

    def __init__(self, *args: Any, policy: EscalationPolicy | None = None, **kwargs: Any) -> None:
        self.policy = policy
        if policy is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{name: getattr(policy, name) for name in (*self.CHECKBOXES, "name", "metrics", "escalate_to")},
                "notify_emails": "\n".join(policy.notify_emails),
                "move_to_team": str(policy.move_to_team_id or ""),
                "add_tag": policy.add_tag,
            }
        super().__init__(*args, **kwargs)
        _choices(
            self,
            "move_to_team",
            [("", "— stay —")]
            + [(str(pk), name) for pk, name in Team.objects.order_by("name").values_list("pk", "name")],
        )

    def action_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields}


# --- calendars -----------------------------------------------------------------------------------

_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*[-\u2013]\s*(\d{1,2}:\d{2}(?::\d{2})?)\s*$")
WEEKDAYS = [(day.value, day.label, f"hours_{day.label.lower()}") for day in Weekday]


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _pad(text: str) -> str:
    return text if len(text.split(":")[0]) == 2 else "0" + text


class CalendarForm(PageForm):
    name = forms.CharField(max_length=200)
    time_zone = ActionChoiceField(help_text="Business hours are this zone's wall clock (daylight saving included).")
    holiday_country = forms.CharField(
        required=False,
        max_length=3,
        label="Holiday country",
        help_text="ISO code such as US, DE or GB; empty: no public holidays.",
        widget=forms.TextInput(attrs={"size": 4}),
    )
    holiday_subdivision = forms.CharField(
        required=False,
        max_length=10,
        label="Subdivision",
        help_text="A state or region such as CA or BY; empty: the whole country.",
        widget=forms.TextInput(attrs={"size": 6}),
    )
    holidays = forms.CharField(
        required=False,
        label="Custom holidays",
        help_text="One a line: YYYY-MM-DD and an optional name (2026-12-24 Christmas Eve).",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, calendar: BusinessCalendar | None = None, **kwargs: Any) -> None:
        self.calendar = calendar
        if calendar is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial(calendar)
        super().__init__(*args, **kwargs)
        _choices(self, "time_zone", [(z, z) for z in sorted(known_time_zones())])
        if calendar is None:
            self.fields["time_zone"].initial = "UTC"
        for _day, label, name in WEEKDAYS:
            self.fields[name] = forms.CharField(
                required=False,
                label=label,
                widget=forms.TextInput(attrs={"placeholder": "09:00-12:00, 13:00-17:00", "autocomplete": "off"}),
            )
        self._interval_fields: list[tuple[str, str]] = []  # per interval index: (field, its text)
        self._holiday_lines: list[int] = []  # per holiday index: its line number

    @staticmethod
    def _initial(calendar: BusinessCalendar) -> dict[str, Any]:
        days: dict[int, list[str]] = defaultdict(list)
        for interval in calendar.intervals.all():
            days[interval.weekday].append(f"{_hhmm(interval.start)}-{_hhmm(interval.end)}")
        initial: dict[str, Any] = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "holiday_country": calendar.holiday_country,
            "holiday_subdivision": calendar.holiday_subdivision,
            "holidays": "\n".join(f"{h.date:%Y-%m-%d} {h.name}".strip() for h in calendar.custom_holidays.all()),
        }
        for day, _label, name in WEEKDAYS:
            initial[name] = ", ".join(days[day])
        return initial

    def hour_fields(self) -> list[forms.BoundField]:
        return [self[name] for _day, _label, name in WEEKDAYS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        intervals: list[dict[str, Any]] = []
        self._interval_fields = []
        for day, _label, name in WEEKDAYS:
            text = data.get(name) or ""
            for part in (p for p in re.split(r"[,;]", text) if p.strip()):
                match = _RANGE.match(part)
                if match is None:
                    self.add_error(name, f"{part.strip()!r} is not a range like 09:00-17:00")
                    break
                start, end = (_pad(g) for g in match.groups())
                intervals.append({"weekday": day, "start": start, "end": end})
                self._interval_fields.append((name, f"{start}-{end}"))
        holidays: list[dict[str, Any]] = []
        self._holiday_lines = []
        for number, line in enumerate((data.get("holidays") or "").splitlines(), start=1):
            if not line.strip():
                continue
            when, _sep, holiday_name = line.strip().partition(" ")
            holidays.append({"date": when, "name": holiday_name.strip()})
            self._holiday_lines.append(number)
        data["intervals"], data["holiday_list"] = intervals, holidays
        return data

    def action_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "time_zone": data.get("time_zone") or "",
            "holiday_country": data.get("holiday_country") or "",
            "holiday_subdivision": data.get("holiday_subdivision") or "",
            "intervals": data["intervals"],
            "holidays": data["holiday_list"],
        }

    def add_calendar_error(self, error: InvalidInput) -> None:
        """An interval's error goes to its weekday's field, a holiday's to its line."""
        rewritten: dict[str, str] = {}
        for field, problem in error.errors.items():
            found = re.match(r"^(intervals|holidays)\[(\d+)\]", field)
            if found is None:
                rewritten[field] = problem
                continue
            index = int(found.group(2))
            if found.group(1) == "intervals" and index < len(self._interval_fields):
                name, text = self._interval_fields[index]
                rewritten[name] = f"{text}: {problem}"
            elif found.group(1) == "holidays" and index < len(self._holiday_lines):
                rewritten["holidays"] = f"line {self._holiday_lines[index]}: {problem}"
            else:
                rewritten[field] = problem
        self.add_action_error(InvalidInput(rewritten))


class AssignmentsForm(PageForm):
    """The default calendar, each team's, and the organizations' (those that have one, plus one
    more to add)."""

    default = ActionChoiceField(
        required=False,
        label="Default calendar",
        help_text="Used when neither the policy, the team nor the organization names one. None: around the clock.",
    )
    add_organization = ActionChoiceField(required=False, label="Organization")
    add_organization_calendar = ActionChoiceField(required=False, label="Calendar")

    def __init__(
        self,
        *args: Any,
        teams: list[tuple[int, str, int | None]],
        organizations: list[tuple[int, str, int | None]],
        unassigned_organizations: list[tuple[int, str]],
        default: int | None,
        **kwargs: Any,
    ) -> None:
        initial = {"default": str(default or "")}
        for pk, _name, calendar_id in teams:
            initial[f"team_{pk}"] = str(calendar_id or "")
        for pk, _name, calendar_id in organizations:
            initial[f"organization_{pk}"] = str(calendar_id or "")
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        calendars = [
            (str(pk), name) for pk, name in BusinessCalendar.objects.order_by("name").values_list("pk", "name")
        ]
        none = [("", "— none —")]
        _choices(self, "default", none + calendars)
        self.team_ids = [pk for pk, _n, _c in teams]
        self.organization_ids = [pk for pk, _n, _c in organizations]
        for pk, name, _c in teams:
            self.fields[f"team_{pk}"] = ActionChoiceField(required=False, label=name, choices=none + calendars)
        for pk, name, _c in organizations:
            self.fields[f"organization_{pk}"] = ActionChoiceField(required=False, label=name, choices=none + calendars)
        _choices(
            self, "add_organization", [("", "— choose —")] + [(str(pk), name) for pk, name in unassigned_organizations]
        )
        _choices(self, "add_organization_calendar", none + calendars)

    def team_fields(self) -> list[forms.BoundField]:
        return [self[f"team_{pk}"] for pk in self.team_ids]

    def organization_fields(self) -> list[forms.BoundField]:
        return [self[f"organization_{pk}"] for pk in self.organization_ids]

    def action_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        organizations: dict[Any, Any] = {pk: data.get(f"organization_{pk}") for pk in self.organization_ids}
        added = data.get("add_organization")
        if added:
            if not data.get("add_organization_calendar"):
                raise InvalidInput("add_organization_calendar", "choose the calendar for the organization")
            organizations[added] = data["add_organization_calendar"]
        return {
            "default": data.get("default"),
            "teams": {pk: data.get(f"team_{pk}") for pk in self.team_ids},
            "organizations": organizations,
        }

    def field_map(self) -> dict[str, str]:
        mapping = {f"teams.{pk}": f"team_{pk}" for pk in self.team_ids}
        mapping.update({f"organizations.{pk}": f"organization_{pk}" for pk in self.organization_ids})
        added = self.cleaned_data.get("add_organization")
        if added:
            mapping[f"organizations.{added}"] = "add_organization"
        return mapping
