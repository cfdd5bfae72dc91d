"""The one validator of rule conditions and actions, used by the pages, the admin and the engine.

A rule's ``conditions`` is a list; every item must hold. An item is a condition
``{"field": ..., "op": ..., "value": ...}`` or a group ``{"any": [condition, ...]}`` that holds
when one of its conditions does. A rule's ``actions`` is a list of ``{"type": ..., ...}``.

Errors name the place and the problem, the way a manager reads them:
``conditions[2].value: 'urgentt' is not a priority (low, normal, high, urgent)``. The cleaned
result is plain JSON (ids as ints, tags normalised), which is what is stored and compiled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateSyntaxError

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Team, User
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets.models import Channel, Priority, Status, TicketType, Via

MAX_CONDITIONS = 50
MAX_ACTIONS = 20
TEXT_MAX = 10_000


class RuleError(InvalidInput):
    """What is wrong with a rule, at a path (``conditions[2].value``)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__({path: problem})


# --- condition fields ------------------------------------------------------------------------------

CHOICE_OPS = ("is", "is_not", "in", "not_in", "changed", "not_changed", "changed_to", "changed_from")
# How a change arrived, and what kind of change it is, have no "changed".
PLAIN_CHOICE_OPS = ("is", "is_not", "in", "not_in")
TAG_OPS = ("includes", "not_includes", "added", "removed")
TEXT_OPS = ("contains", "not_contains", "is", "is_not", "changed")
MESSAGE_OPS = ("contains", "not_contains", "present", "absent")
BOOL_OPS = ("is",)
CUSTOM_OPS = ("is", "is_not", "contains", "changed", "not_changed", "changed_to", "changed_from")
NO_VALUE = frozenset({"changed", "not_changed", "present", "absent", "added_any"})
LIST_VALUE = frozenset({"in", "not_in", "includes", "not_includes", "added", "removed"})

AUTHOR_ROLES = ("customer", "agent", "system")
SENTIMENTS = ("positive", "neutral", "negative")
EVENTS = ("created", "updated")


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # choice, ref, tags, text, message, bool
    ops: tuple[str, ...]
    label: str
    choices: tuple[str, ...] = ()
    # For ref fields: the ids that exist, given the ids asked about.
    existing: Callable[[set[int]], set[int]] | None = None
    nullable: bool = False


def _existing(model: Any, **filters: Any) -> Callable[[set[int]], set[int]]:
    def lookup(ids: set[int]) -> set[int]:
        return set(model.objects.filter(pk__in=ids, **filters).values_list("pk", flat=True))

    return lookup


def _values(choices: Any) -> tuple[str, ...]:
    return tuple(str(c.value) for c in choices)


CONDITION_FIELDS: dict[str, FieldSpec] = {
    "status": FieldSpec("choice", CHOICE_OPS, "status", _values(Status)),
    "priority": FieldSpec("choice", CHOICE_OPS, "priority", _values(Priority)),
    "type": FieldSpec("choice", CHOICE_OPS, "type", _values(TicketType)),
    "channel": FieldSpec("choice", PLAIN_CHOICE_OPS, "channel", _values(Channel)),
    "via": FieldSpec("choice", PLAIN_CHOICE_OPS, "way a change arrives", _values(Via)),
    "update": FieldSpec("choice", ("is",), "kind of change", EVENTS),
    "team": FieldSpec("ref", CHOICE_OPS, "team", existing=_existing(Team), nullable=True),
    "assignee": FieldSpec("ref", CHOICE_OPS, "agent", existing=_existing(User, role__in=AGENT_ROLES), nullable=True),
    "requester": FieldSpec("ref", CHOICE_OPS, "customer", existing=_existing(Customer)),
    "organization": FieldSpec("ref", CHOICE_OPS, "organization", existing=_existing(Organization), nullable=True),
    "tags": FieldSpec("tags", TAG_OPS, "tag"),
    "subject": FieldSpec("text", TEXT_OPS, "subject"),
    "message": FieldSpec("message", MESSAGE_OPS, "message text"),
    "message_author": FieldSpec("choice", ("is", "is_not"), "message author", AUTHOR_ROLES),
    "message_public": FieldSpec("bool", BOOL_OPS, "public message"),
    # The message's sentiment (feedback.insights.sentiment), read from its text when asked.
    "message_sentiment": FieldSpec("choice", PLAIN_CHOICE_OPS, "message sentiment", SENTIMENTS),
    "message_frustrated": FieldSpec("bool", BOOL_OPS, "frustrated message (clearly negative)"),
    "business_hours": FieldSpec("bool", BOOL_OPS, "within business hours"),
}
CUSTOM_PREFIX = "custom_fields."


def field_spec(name: str) -> FieldSpec | None:
    if name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX):
        return FieldSpec("custom", CUSTOM_OPS, f"custom field {name[len(CUSTOM_PREFIX) :]!r}")
    return CONDITION_FIELDS.get(name)


def _as_dict(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RuleError(path, f"must be an object, not {type(item).__name__}")
    return item


def _one_of(value: Any, allowed: Iterable[str], path: str, what: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise RuleError(path, f"{value!r} is not {what} ({', '.join(allowed)})")
    return str(value)


def _article(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _clean_tag(value: Any, path: str) -> str:
    from deskpilot.tickets.actions import clean_tag

    if not isinstance(value, str):
        raise RuleError(path, f"{value!r} is not a tag name")
    try:
        return clean_tag(value)
    except InvalidInput as error:
        raise RuleError(path, next(iter(error.errors.values()))) from None


def _clean_scalar(spec: FieldSpec, value: Any, path: str) -> Any:
    if spec.kind == "choice":
        return _one_of(value, spec.choices, path, _article(spec.label))
    if spec.kind == "ref":
        if value is None:
            if not spec.nullable:
                raise RuleError(path, f"choose {_article(spec.label)}")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(path, f"{value!r} is not {_article(spec.label)} id")
        assert spec.existing is not None
        if not spec.existing({value}):
            raise RuleError(path, f"there is no {spec.label} with id {value}")
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise RuleError(path, f"{value!r} is not true or false")
        return value
    if spec.kind in ("text", "message"):
        if not isinstance(value, str) or not value.strip():
            raise RuleError(path, "must be some text")
        if len(value) > 1000:
            raise RuleError(path, "must be at most 1000 characters")
        return value
    if spec.kind == "tags":
        return _clean_tag(value, path)
    # custom fields: any JSON scalar
    if isinstance(value, dict | list):
        raise RuleError(path, "must be a single value (text, number, true/false or null)")
    return value


def clean_condition(item: Any, path: str) -> dict[str, Any]:
    item = _as_dict(item, path)
    unknown = set(item) - {"field", "op", "value"}
    if unknown:
        raise RuleError(f"{path}.{sorted(unknown)[0]}", "is not a condition key (field, op, value)")
    name = item.get("field")
    spec = field_spec(name) if isinstance(name, str) else None
    if spec is None:
        known = ", ".join([*CONDITION_FIELDS, "custom_fields.<key>"])
        raise RuleError(f"{path}.field", f"{name!r} is not a condition field ({known})")
    op = _one_of(item.get("op"), spec.ops, f"{path}.op", f"an operator for {name}")
    cleaned: dict[str, Any] = {"field": name, "op": op}
    if op in NO_VALUE:
        if item.get("value") is not None:
            raise RuleError(f"{path}.value", f"{op!r} takes no value")
        return cleaned
    if "value" not in item:
        raise RuleError(f"{path}.value", "is missing")
    value = item["value"]
    if op in LIST_VALUE:
        if spec.kind == "tags" and isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise RuleError(f"{path}.value", f"{op!r} needs a non-empty list")
        values = [_clean_scalar(spec, v, f"{path}.value[{i}]") for i, v in enumerate(value)]
        cleaned["value"] = list(dict.fromkeys(values))
    else:
        if op == "contains" and (not isinstance(value, str) or not value.strip()):
            raise RuleError(f"{path}.value", "must be some text")
        cleaned["value"] = value if op == "contains" else _clean_scalar(spec, value, f"{path}.value")
    return cleaned


def clean_conditions(data: Any, *, path: str = "conditions", allow_empty: bool = True) -> list[dict[str, Any]]:
    if data is None:
        data = []
    if not isinstance(data, list):
        raise RuleError(path, "must be a list of conditions")
    if len(data) > MAX_CONDITIONS:
        raise RuleError(path, f"at most {MAX_CONDITIONS} conditions")
    if not data and not allow_empty:
        raise RuleError(path, "add at least one condition")
    cleaned: list[dict[str, Any]] = []
    for index, item in enumerate(data):
        here = f"{path}[{index}]"
        if isinstance(item, dict) and "any" in item:
            if set(item) != {"any"}:
                raise RuleError(here, 'a group has only the key "any"')
            group = item["any"]
            if not isinstance(group, list) or not group:
                raise RuleError(f"{here}.any", "must be a non-empty list of conditions")
            cleaned.append({"any": [clean_condition(c, f"{here}.any[{i}]") for i, c in enumerate(group)]})
        else:
            cleaned.append(clean_condition(item, here))
    return cleaned


# --- actions ---------------------------------------------------------------------------------------

SET_FIELDS: dict[str, tuple[str, ...]] = {
    "status": _values(Status),
    "priority": _values(Priority),
    "type": _values(TicketType),
}
ACTION_TYPES = (
    "set",
    "assign",
    "add_tags",
    "remove_tags",
    "notify",
    "email_requester",
    "webhook",
    "set_policy",
)
# Macros change fields only; a person applies them, and their reply is the macro's text.
MACRO_ACTION_TYPES = ("set", "assign", "add_tags", "remove_tags")
ACTION_KEYS: dict[str, set[str]] = {
    "set": {"field", "value"},
    "assign": {"team", "assignee"},
    "add_tags": {"tags"},
    "remove_tags": {"tags"},
    "notify": {"users", "assignee", "team_lead", "emails", "subject", "text"},
    "email_requester": {"subject", "body"},
    "webhook": {"subscription"},
    "set_policy": {"policy", "calendar"},
}


def _text(item: dict[str, Any], key: str, path: str, *, required: bool = True, template: bool = True) -> str:
    value = item.get(key, "")
    if not isinstance(value, str):
        raise RuleError(f"{path}.{key}", "must be text")
    if required and not value.strip():
        raise RuleError(f"{path}.{key}", "must not be empty")
    if len(value) > TEXT_MAX:
        raise RuleError(f"{path}.{key}", f"must be at most {TEXT_MAX} characters")
    if template:
        check_template(value, f"{path}.{key}")
    return value


def check_template(source: str, path: str) -> None:
    """Refuse a template that does not compile, naming the line."""
    from deskpilot.automation.rules.macros import compile_template

    try:
        compile_template(source)
    except TemplateSyntaxError as error:
        raise RuleError(path, f"line {error.lineno}: {error.message}") from None


def _ref(value: Any, path: str, label: str, lookup: Callable[[set[int]], set[int]], *, nullable: bool) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(path, f"{value!r} is not {_article(label)} id")
    if not lookup({value}):
        raise RuleError(path, f"there is no {label} with id {value}")
    return value


def _ids(value: Any, path: str, label: str, lookup: Callable[[set[int]], set[int]]) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RuleError(path, f"must be a list of {label} ids")
    ids = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int):
            raise RuleError(f"{path}[{i}]", f"{v!r} is not {_article(label)} id")
        ids.append(v)
    missing = sorted(set(ids) - lookup(set(ids)))
    if missing:
        raise RuleError(f"{path}[{ids.index(missing[0])}]", f"there is no {label} with id {missing[0]}")
    return list(dict.fromkeys(ids))


def _custom_value(key: str, value: Any, path: str) -> Any:
    """A custom field's value, checked as the ticket actions will check it (None clears it)."""
    from deskpilot.tickets.custom_fields import clean_custom_fields

    try:
        cleaned = clean_custom_fields({key: value}, current={})
    except InvalidInput as error:
        problem = next(iter(error.errors.values()))
        where = "field" if problem == "is not a custom field" else "value"
        raise RuleError(f"{path}.{where}", f"custom field {key!r} {problem}" if where == "field" else problem) from None
    return cleaned.get(key)


def clean_action(item: Any, path: str, allowed: tuple[str, ...] = ACTION_TYPES) -> dict[str, Any]:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    item = _as_dict(item, path)
    kind = _one_of(item.get("type"), allowed, f"{path}.type", "an action")
    unknown = set(item) - ACTION_KEYS[kind] - {"type"}
    if unknown:
        keys = ", ".join(sorted(ACTION_KEYS[kind]))
        raise RuleError(f"{path}.{sorted(unknown)[0]}", f"is not a key of a {kind} action ({keys})")
    out: dict[str, Any] = {"type": kind}
    if kind == "set":
        field = item.get("field")
        if isinstance(field, str) and field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX):
            out["field"] = field
            out["value"] = _custom_value(field.removeprefix(CUSTOM_PREFIX), item.get("value"), path)
            return out
        field = _one_of(field, [*SET_FIELDS, "custom_fields.<key>"], f"{path}.field", "a field an action sets")
        out["field"] = field
        out["value"] = _one_of(item.get("value"), SET_FIELDS[field], f"{path}.value", _article(field))
    elif kind == "assign":
        if "team" not in item and "assignee" not in item:
            raise RuleError(path, "name a team, an assignee or both (null unassigns)")
        if "team" in item:
            out["team"] = _ref(item["team"], f"{path}.team", "team", _existing(Team), nullable=True)
        if "assignee" in item:
            out["assignee"] = _ref(
                item["assignee"],
                f"{path}.assignee",
                "active agent",
                _existing(User, role__in=AGENT_ROLES, is_active=True),
                nullable=True,
            )
        if out.get("team") and out.get("assignee"):
            team = Team.objects.get(pk=out["team"])
            if not team.members.filter(pk=out["assignee"]).exists():
                raise RuleError(f"{path}.assignee", f"agent {out['assignee']} is not a member of team {team.name!r}")
    elif kind in ("add_tags", "remove_tags"):
        tags = item.get("tags")
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not tags:
            raise RuleError(f"{path}.tags", "must be a non-empty list of tag names")
        out["tags"] = sorted({_clean_tag(t, f"{path}.tags[{i}]") for i, t in enumerate(tags)})
    elif kind == "notify":
        out["users"] = _ids(
            item.get("users"), f"{path}.users", "staff user", _existing(User, role__in=STAFF_ROLES, is_active=True)
        )
        for flag in ("assignee", "team_lead"):
            value = item.get(flag, False)
            if not isinstance(value, bool):
                raise RuleError(f"{path}.{flag}", f"{value!r} is not true or false")
            out[flag] = value
        emails = item.get("emails") or []
        if not isinstance(emails, list):
            raise RuleError(f"{path}.emails", "must be a list of addresses")
        for i, address in enumerate(emails):
            try:
                validate_email(address)
            except (ValidationError, TypeError):
                raise RuleError(f"{path}.emails[{i}]", f"{address!r} is not an email address") from None
        out["emails"] = [str(a).strip().lower() for a in emails]
        if not (out["users"] or out["assignee"] or out["team_lead"] or out["emails"]):
            raise RuleError(path, "notify whom? name users, emails, or the assignee or team lead")
        out["subject"] = _text(item, "subject", path)
        out["text"] = _text(item, "text", path)
    elif kind == "email_requester":
        out["subject"] = _text(item, "subject", path)
        out["body"] = _text(item, "body", path)
    elif kind == "webhook":
        from deskpilot.automation.models import WebhookSubscription

        out["subscription"] = _ref(
            item.get("subscription"), f"{path}.subscription", "webhook", _existing(WebhookSubscription), nullable=False
        )
    elif kind == "set_policy":
        from deskpilot.policies.models import BusinessCalendar, SlaPolicy

        if "policy" not in item and "calendar" not in item:
            raise RuleError(path, "name a policy, a calendar or both (null goes back to the automatic choice)")
        out["policy"] = _ref(item.get("policy"), f"{path}.policy", "SLA policy", _existing(SlaPolicy), nullable=True)
        out["calendar"] = _ref(
            item.get("calendar"), f"{path}.calendar", "calendar", _existing(BusinessCalendar), nullable=True
        )
    return out


def clean_actions(
    data: Any, *, path: str = "actions", allowed: tuple[str, ...] = ACTION_TYPES, allow_empty: bool = False
) -> list[dict[str, Any]]:
    if data is None:
        data = []
    if not isinstance(data, list):
        raise RuleError(path, "must be a list of actions")
    if not data and not allow_empty:
        raise RuleError(path, "add at least one action")
    if len(data) > MAX_ACTIONS:
        raise RuleError(path, f"at most {MAX_ACTIONS} actions")
    return [clean_action(item, f"{path}[{i}]", allowed) for i, item in enumerate(data)]


def clean_status(value: Any, path: str = "status") -> str:
    return _one_of(value, _values(Status), path, "a status")
