"""Saving rules: the pages and the admin save through here, so every change is validated by
``rules.schema`` and moves ``updated_at`` (which the engine's cache is checked against)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from deskpilot.automation.models import Automation, Macro, Trigger
from deskpilot.automation.rules import schema

Rule = TypeVar("Rule", bound=Trigger | Automation | Macro)


def clean_rule(rule: models.Model) -> None:
    """Validate and normalise a rule's JSON in place; raises schema.RuleError."""
    if isinstance(rule, Macro):
        rule.conditions = []
        rule.actions = schema.clean_actions(rule.actions, allowed=schema.MACRO_ACTION_TYPES, allow_empty=True)
        if rule.reply:
            schema.check_template(rule.reply, "reply")
        if not rule.actions and not rule.reply.strip():
            raise schema.RuleError("actions", "a macro needs field changes, a reply or both")
        return
    assert isinstance(rule, Trigger | Automation)
    rule.conditions = schema.clean_conditions(rule.conditions)
    rule.actions = schema.clean_actions(rule.actions)
    if isinstance(rule, Automation):
        rule.status = schema.clean_status(rule.status)
        if rule.status == "closed":
            raise schema.RuleError("status", "closed tickets cannot be changed; choose another status")
        if rule.hours < 1:
            raise schema.RuleError("hours", "must be at least 1")
    elif not rule.conditions:
        raise schema.RuleError("conditions", "a trigger needs at least one condition (it would fire on every change)")


def save_rule(rule: Rule, *, created_by: Any = None) -> Rule:
    """Validate and save; a new rule goes last."""
    clean_rule(rule)
    rule.updated_at = timezone.now()
    with transaction.atomic():
        if rule.pk is None:
            rule.created_by = created_by
            top = type(rule).objects.aggregate(top=Max("position"))["top"]
            rule.position = 0 if top is None else top + 1
        rule.save()
    return rule


def delete_rule(rule: models.Model) -> None:
    rule.delete()  # the count in the engine's stamp moves


def move_rule(rule: Rule, direction: int) -> None:
    """Swap with the rule above (-1) or below (+1); positions are renumbered 0..n-1 on the way."""
    model = type(rule)
    with transaction.atomic():
        ordered = list(model.objects.select_for_update().order_by("position", "id"))
        index = next(i for i, r in enumerate(ordered) if r.pk == rule.pk)
        other = index + direction
        if not 0 <= other < len(ordered):
            return
        ordered[index], ordered[other] = ordered[other], ordered[index]
        now = timezone.now()
        for position, row in enumerate(ordered):
            if row.position != position or row.pk in (rule.pk, ordered[index].pk):
                model.objects.filter(pk=row.pk).update(position=position, updated_at=now)
