"""Helpers of the agent's ticket page (``{% load ticket_tags %}``): a readable line for each
history event, and who wrote a message."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from deskpilot.accounts.models import Role
from deskpilot.tickets.models import LinkKind, Message, Priority, Status, TicketEvent, TicketType
from deskpilot.tickets.page_queries import EVENT_ID_KINDS, Names

register = template.Library()

CHOICE_LABELS: dict[str, dict[str, str]] = {
    "status": dict(Status.choices),
    "priority": dict(Priority.choices),
    "type": dict(TicketType.choices),
}


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _ticket_link(number: Any) -> SafeString:
    try:
        url = reverse("tickets:ticket", args=[int(number)])
    except (TypeError, ValueError):
        return format_html("#{}", number)
    return format_html('<a href="{}">#{}</a>', url, number)


def _value(field: str, value: Any, names: Names) -> str:
    kind = EVENT_ID_KINDS.get(field)
    if kind:
        return names.of(kind, value)
    if field in CHOICE_LABELS:
        return CHOICE_LABELS[field].get(str(value), str(value))
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _names(field: str, values: list[Any], names: Names) -> str:
    return ", ".join(_value(field, v, names) for v in values)


def actor_name(event: TicketEvent) -> str:
    if event.actor_user_id and event.actor_user:
        return event.actor_user.name
    if event.actor_customer_id and event.actor_customer:
        return event.actor_customer.name
    return "Deskpilot"


def _set_change(event: TicketEvent, names: Names, what: str) -> SafeString:
    old = list(event.old or [])
    new = list(event.new or [])
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    parts = []
    if added:
        parts.append(format_html("added {} {}", what, _names(event.field, added, names)))
    if removed:
        parts.append(format_html("removed {} {}", what, _names(event.field, removed, names)))
    return format_html("{} {}", actor_name(event), format_html_join("; ", "{}", ((p,) for p in parts)) or "changed")


_METRIC_WORDS = {
    "first_reply": "first reply",
    "next_reply": "next reply",
    "periodic_update": "periodic update",
    "pausable_update": "pausable update",
    "requester_wait": "requester wait",
    "agent_work": "agent work",
    "total_resolution": "total resolution",
    "group_ownership": "group ownership",
}
_CAUSE_WORDS = {
    "trigger": "trigger",
    "automation": "automation",
    "macro": "macro",
    "escalation": "escalation policy",
}


def cause_label(cause: str | None) -> str:
    """What caused an event, in words: "trigger #12", "escalation policy #3", "routing"."""
    if not cause:
        return ""
    kind, _, number = cause.partition(":")
    word = _CAUSE_WORDS.get(kind, kind)
    return f"{word} #{number}" if number else word


def _sla_sentence(event: TicketEvent) -> SafeString:
    new: Any = event.new if isinstance(event.new, dict) else {}
    field = event.field
    if field == "sla":
        metric = _METRIC_WORDS.get(str(new.get("metric")), str(new.get("metric")))
        minutes = int(new.get("target_minutes") or 0)
        target = f"{minutes // 60} h {minutes % 60:02d} m" if minutes >= 60 else f"{minutes} m"
        hours = "business" if new.get("business_hours") else "calendar"
        if new.get("kind") == "breach":
            return format_html("SLA breached: {} (target {} in {} hours)", metric, target, hours)
        return format_html("SLA at risk: {} (target {} in {} hours)", metric, target, hours)
    if field == "sla_policy":
        if not new:
            return format_html("No SLA policy applies any more")
        return format_html("SLA policy {} applies", new.get("name", ""))
    if not new.get("policy") and not new.get("calendar"):
        return format_html("The SLA policy is chosen by its conditions again")
    return format_html("A rule set the SLA policy or calendar (policy #{}, calendar #{})",
                       new.get("policy") or "-", new.get("calendar") or "-")  # fmt: skip


_LEVEL_WORDS = {None: "tier 1", "tier2": "tier 2", "manager": "manager"}


@register.filter
def describe_event(event: TicketEvent, names: Names) -> SafeString:
    """One event as a sentence ("Maya Chen changed status from Open to Pending"), with what caused
    it when a rule did; everything people wrote is escaped, ticket numbers link to their tickets."""
    sentence = _sentence(event, names)
    cause = cause_label(event.cause) if event.cause != "sla" else ""
    return format_html('{} <span class="muted">(by {})</span>', sentence, cause) if cause else sentence


def _sentence(event: TicketEvent, names: Names) -> SafeString:
    who = actor_name(event)
    field = event.field
    new: Any = event.new
    old: Any = event.old
    if field == "created":
        return format_html("{} created the ticket", who)
    if field in ("sla", "sla_policy", "sla_pin"):
        return _sla_sentence(event)
    if field == "escalation" and isinstance(new, dict):
        from_level = _LEVEL_WORDS.get(old.get("level") if isinstance(old, dict) else None, "tier 1")
        to_level = _LEVEL_WORDS.get(new.get("level"), str(new.get("level")))
        verb = "escalated" if new.get("direction") == "up" else "de-escalated"
        reason = new.get("reason") or ""
        if reason:
            return format_html("{} {} the ticket from {} to {}: “{}”", who, verb, from_level, to_level, reason)
        return format_html("{} {} the ticket from {} to {}", who, verb, from_level, to_level)
    if field == "message":
        info = new if isinstance(new, dict) else {}
        what = "replied" if info.get("public", True) else "added an internal note"
        files = int(info.get("attachments") or 0)
        if files:
            return format_html("{} {} with {} attachment{}", who, what, files, _s(files))
        return format_html("{} {}", who, what)
    if field == "tags":
        return _set_change(event, names, "tags")
    if field == "ccs":
        return _set_change(event, names, "CCs")
    if field == "followers":
        return _set_change(event, names, "followers")
    if field == "link" and isinstance(new, dict):
        kind = str(new.get("kind", ""))
        other = _ticket_link(new.get("ticket"))
        if kind == LinkKind.FOLLOW_UP:
            return format_html("{} continued the conversation in follow-up {}", who, other)
        label = dict(LinkKind.choices).get(kind, kind).lower()
        if new.get("direction") == "in":
            return format_html("{} linked {} to this ticket ({})", who, other, label)
        return format_html("{} linked this ticket to {} ({})", who, other, label)
    if field == "merge" and isinstance(new, dict):
        count = len(new.get("messages") or [])
        if "into" in new:
            return format_html("{} merged this ticket into {}", who, _ticket_link(new["into"]))
        return format_html(
            "{} merged {} into this ticket ({} message{})", who, _ticket_link(new.get("from")), count, _s(count)
        )
    if field == "split" and isinstance(new, dict):
        count = len(new.get("messages") or [])
        if "into" in new:
            return format_html(
                "{} moved {} message{} to new ticket {}", who, count, _s(count), _ticket_link(new["into"])
            )
        return format_html("{} split this ticket from {}", who, _ticket_link(new.get("from")))
    if field == "custom_fields":
        before = old if isinstance(old, dict) else {}
        after = new if isinstance(new, dict) else {}
        keys = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
        changes = (
            (names.custom_fields.get(k, k), _value("", before.get(k), names), _value("", after.get(k), names))
            for k in keys
        )
        return format_html("{} changed {}", who, format_html_join("; ", "{} from {} to {}", changes) or "custom fields")
    if field.startswith("custom_fields."):
        key = field.partition(".")[2]
        label = names.custom_fields.get(key, key)
        return format_html(
            "{} changed {} from {} to {}", who, label, _value(field, old, names), _value(field, new, names)
        )
    label = field.replace("_", " ")
    return format_html("{} changed {} from {} to {}", who, label, _value(field, old, names), _value(field, new, names))


@register.filter
def author_role(message: Message) -> str:
    if message.author_user_id and message.author_user:
        return str(Role(message.author_user.role).label)
    if message.author_customer_id:
        return "Customer"
    return "System"


_STATE_WORDS = {
    "active": "Running",
    "paused": "Paused",
    "fulfilled": "Met",
    "breached-active": "Breached, running",
    "breached-paused": "Breached, paused",
    "breached-fulfilled": "Breached",
}


@register.filter
def sla_metric(metric: str) -> str:
    return _METRIC_WORDS.get(metric, metric).capitalize()


@register.filter
def escalation_level(level: str) -> str:
    """The ladder's words for a stored level ("tier2" → "Tier 2"); empty: tier 1."""
    from deskpilot.policies.models import EscalationLevel

    return str(dict(EscalationLevel.choices).get(level, level)) if level else "Tier 1"


@register.filter
def sla_state(state: str) -> str:
    return _STATE_WORDS.get(state, state)
