"""The KPI target form. It reads what the manager typed in human units ("4h", "1h 30m", "95 %")
into the KPI's unit with ``targets.parse_amount``; ``targets.create_target`` / ``update_target``
check the rest (ranges, direction, one target per KPI and scope) and their InvalidInput is shown
next to the field it names."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpilot.accounts.models import AGENT_ROLES, Team, User
from deskpilot.analytics import targets
from deskpilot.analytics.kpis import KPIS, Unit
from deskpilot.analytics.models import KpiTarget, TargetDirection
from deskpilot.core.errors import InvalidInput
from deskpilot.core.forms import PageForm

SCOPES = [("desk", "Whole desk"), ("team", "One team"), ("agent", "One agent")]
_GROUPS = ((Unit.COUNT, "Volume"), (Unit.SECONDS, "Times"), (Unit.PERCENT, "Rates"))


def kpi_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The catalogue in groups (volume, times, rates) for the picker."""
    return [(group, [(key, kpi.label) for key, kpi in KPIS.items() if kpi.unit == unit]) for unit, group in _GROUPS]


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class TargetForm(PageForm):
    kpi = forms.ChoiceField(
        label="KPI",
        choices=kpi_choices,
        error_messages={"invalid_choice": "%(value)s is not a KPI; choose one from the list"},
    )
    scope = forms.ChoiceField(
        label="For",
        choices=SCOPES,
        initial="desk",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "%(value)s is not a scope; choose the whole desk, a team or an agent"},
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name", "id"),
        required=False,
        empty_label="Choose a team",
        error_messages={"invalid_choice": "that team does not exist (any more); choose one from the list"},
    )
    agent = AgentChoiceField(
        queryset=User.objects.none(),  # set in __init__: active agents, and the target's own
        required=False,
        empty_label="Choose an agent",
        error_messages={"invalid_choice": "that agent does not exist or is deactivated; choose one from the list"},
    )
    direction = forms.ChoiceField(
        required=False,
        choices=[("", "The KPI's own (lower or higher is better)"), *TargetDirection.choices],
        error_messages={"invalid_choice": "%(value)s is not a direction; choose at least or at most"},
        help_text="Only Created has no better side: choose at most (a ceiling) or at least (a floor) for it.",
    )
    threshold = forms.CharField(
        max_length=40,
        error_messages={"required": "say the target, e.g. 4h, 95 or 200"},
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off", "placeholder": "4h"}),
        help_text="Times: e.g. 4h, 90m or 1h 30m; rates: a percentage such as 95; volumes: a number of tickets.",
    )
    bare_unit = forms.ChoiceField(
        label="A number without a unit means",
        choices=[("hours", "hours"), ("minutes", "minutes")],
        initial="hours",
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a unit; choose hours or minutes"},
    )
    at_risk_band = forms.CharField(
        label="At-risk band",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
        help_text=(
            "How close to the threshold, on the passing side, counts as at risk, in the KPI's unit. "
            "Empty: a tenth of a time or volume target, 2 points of a rate. 0: never at risk."
        ),
    )
    notes = forms.CharField(
        required=False,
        max_length=targets.NOTES_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this target, who agreed it, until when.",
    )

    def __init__(self, *args: Any, target: KpiTarget | None = None, **kwargs: Any) -> None:
        if target is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = initial_for(target)
        super().__init__(*args, **kwargs)
        agents = User.objects.filter(role__in=AGENT_ROLES, is_active=True)
        if target is not None and target.agent_id is not None:
            # A target of an agent since deactivated stays editable.
            agents = agents | User.objects.filter(pk=target.agent_id)
        agent_field = self.fields["agent"]
        assert isinstance(agent_field, AgentChoiceField)
        agent_field.queryset = agents.order_by("name", "id")

    def _amount(self, kpi: str, name: str) -> float | None:
        text = self.cleaned_data.get(name) or ""
        if name in self.errors or (name == "at_risk_band" and not text.strip()):
            return None
        try:
            return targets.parse_amount(kpi, text, field=name, bare_unit=self.cleaned_data.get("bare_unit") or "hours")
        except InvalidInput as error:
            self.add_error(name, error.errors[name])
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == "team" and not data.get("team") and "team" not in self.errors:
            self.add_error("team", "choose the team this target is for")
        if scope == "agent" and not data.get("agent") and "agent" not in self.errors:
            self.add_error("agent", "choose the agent this target is for")
        kpi = data.get("kpi")
        if kpi:
            data["threshold_value"] = self._amount(kpi, "threshold")
            data["band_value"] = self._amount(kpi, "at_risk_band")
        return data

    def values(self) -> dict[str, Any]:
        """What targets.create_target and update_target take."""
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "kpi": data["kpi"],
            "threshold": data["threshold_value"],
            "team": data["team"] if scope == "team" else None,
            "agent": data["agent"] if scope == "agent" else None,
            "direction": data["direction"] or None,
            "at_risk_band": data["band_value"],
            "notes": data["notes"],
        }


def initial_for(target: KpiTarget) -> dict[str, Any]:
    """The form as the target stands, amounts written the way the list shows them (they read
    back as typed: "3 h 36 min", "95 %")."""
    scope = "agent" if target.agent_id else "team" if target.team_id else "desk"
    known = target.kpi in KPIS
    undirected = not known or KPIS[target.kpi].higher_is_better is None

    def amount(value: float) -> str:
        return targets.format_value(target.kpi, value) if known else f"{value:g}"

    return {
        "kpi": target.kpi,
        "scope": scope,
        "team": target.team_id,
        "agent": target.agent_id,
        "direction": target.direction if undirected else "",
        "threshold": amount(target.threshold),
        "at_risk_band": amount(target.at_risk_band),
        "notes": target.notes,
    }


def initial_from_query(params: dict[str, str]) -> dict[str, Any]:
    """A new target's form filled from a link (``?kpi=csat&team=3``), so a scorecard can offer
    "set a target" for the figure it shows. Unknown values are left for the form to ignore."""
    initial: dict[str, Any] = {}
    if params.get("kpi") in KPIS:
        initial["kpi"] = params["kpi"]
    for scope in ("agent", "team"):
        if (params.get(scope) or "").isdigit():
            initial.update(scope=scope, **{scope: int(params[scope])})
            break
    return initial
