"""Forms of the rule pages: conditions and actions as JSON, checked by rules.schema (through
rules.store.clean_rule), whose errors name the place: ``conditions[2].value: 'urgentt' is not a
priority (low, normal, high, urgent)``."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from deskpilot.automation.models import Automation, AutomationClock, Macro, Trigger
from deskpilot.automation.rules import schema, store
from deskpilot.core.forms import PageForm
from deskpilot.tickets.models import Status

JSON_ATTRS = {"rows": 10, "spellcheck": "false", "class": "code"}


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class RuleForm(PageForm):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    active = forms.BooleanField(required=False, initial=True)
    conditions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs=JSON_ATTRS),
        help_text='A JSON list; all must hold. {"any": [...]} holds when one of its conditions does.',
    )
    actions = forms.CharField(
        required=False, widget=forms.Textarea(attrs=JSON_ATTRS), help_text="A JSON list, applied in order."
    )

    model: type[Trigger] | type[Automation] | type[Macro] = Trigger
    json_fields: tuple[str, ...] = ("conditions", "actions")

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        self.instance = instance if instance is not None else self.model()
        if instance is not None and not kwargs.get("initial"):
            kwargs["initial"] = self.initial_from(instance)
        super().__init__(*args, **kwargs)

    def initial_from(self, rule: Any) -> dict[str, Any]:
        initial = {name: getattr(rule, name) for name in self.fields_of_model()}
        for name in self.json_fields:
            initial[name] = _dump(getattr(rule, name))
        return initial

    def fields_of_model(self) -> list[str]:
        return [name for name in self.base_fields if name not in ("conditions", "actions")]

    def _parse(self, name: str) -> Any:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return []
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            self.add_error(name, f"{name}: not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})")
            return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        rule = self.instance
        for name in self.fields_of_model():
            setattr(rule, name, cleaned.get(name))
        for name in self.json_fields:
            value = self._parse(name)
            if value is None:
                return cleaned
            setattr(rule, name, value)
        try:
            store.clean_rule(rule)
        except schema.RuleError as error:
            head = error.path.split(".")[0].split("[")[0]
            self.add_error(head if head in self.fields else None, f"{error.path}: {error.problem}")
        return cleaned


class TriggerForm(RuleForm):
    model = Trigger


class AutomationForm(RuleForm):
    status = forms.ChoiceField(choices=Status.choices, help_text="Acts on tickets in this status.")
    clock = forms.ChoiceField(choices=AutomationClock.choices, initial=AutomationClock.STATUS)
    hours = forms.IntegerField(min_value=1, max_value=24 * 365, help_text="How long the clock must have run.")
    business_hours = forms.BooleanField(required=False, help_text="Count only the ticket calendar's business hours.")
    field_order = ["name", "description", "active", "status", "clock", "hours", "business_hours"]

    model = Automation


class MacroForm(RuleForm):
    reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders such as {{ ticket.requester.first_name }} are filled in when the macro is applied.",
    )
    reply_public = forms.BooleanField(required=False, initial=True, label="Post the reply publicly")
    field_order = ["name", "description", "active", "actions", "reply", "reply_public"]

    model = Macro
    json_fields = ("actions",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["conditions"]
        self.fields["actions"].help_text = "A JSON list of field changes (set, assign, add_tags, remove_tags)."
