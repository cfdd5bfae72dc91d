"""Conditions compiled to plain predicates over a ``Snapshot``: no Django, no queries.

A ``Snapshot`` is a ticket and one change as plain values. What costs a query (the ticket's tags
when they did not change, whether the calendar is open, a message's text) is given as a function
and asked for only when a condition needs it, once per snapshot.

``compile_conditions`` turns cleaned conditions (``rules.schema``) into one predicate; the
engine does this once per process per rule version, so evaluating a rule is a few attribute
reads and comparisons.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from deskpilot.feedback.insights import sentiment

Predicate = Callable[["Snapshot"], bool]

# Ticket fields a snapshot carries by name (ids for related objects).
TICKET_FIELDS = (
    "status", "priority", "type", "channel", "team", "assignee", "requester", "organization", "subject",
)  # fmt: skip


class Snapshot:
    """One ticket change as plain values.

    ``fields``: the ticket now (TICKET_FIELDS plus ``custom_fields``); ``changes``: field ->
    (old, new) for the fields this change set; ``event``: "created" or "updated"; ``via``: how
    the change arrived; ``message``: {"text", "public", "author"} of a message the change added,
    or None. ``tags`` and ``in_business_hours`` are computed on first use by the functions given.
    """

    __slots__ = ("_open", "_open_fn", "_tags", "_tags_fn", "changes", "event", "fields", "message", "via")

    def __init__(
        self,
        *,
        fields: Mapping[str, Any],
        changes: Mapping[str, tuple[Any, Any]] | None = None,
        event: str = "updated",
        via: str = "system",
        message: Mapping[str, Any] | None = None,
        tags: Callable[[], Sequence[str]] | Sequence[str] = (),
        in_business_hours: Callable[[], bool] | bool = True,
    ) -> None:
        self.fields = fields
        self.changes = changes or {}
        self.event = event
        self.via = via
        self.message = message
        self._tags: frozenset[str] | None = None
        self._tags_fn = tags
        self._open: bool | None = None
        self._open_fn = in_business_hours

    @property
    def tags(self) -> frozenset[str]:
        if self._tags is None:
            source = self._tags_fn
            self._tags = frozenset(source() if callable(source) else source)
        return self._tags

    @property
    def in_business_hours(self) -> bool:
        if self._open is None:
            source = self._open_fn
            self._open = bool(source() if callable(source) else source)
        return self._open


def _getter(field: str) -> Callable[[Snapshot], Any]:
    if field == "via":
        return lambda s: s.via
    if field == "update":
        return lambda s: s.event
    if field == "message_author":
        return lambda s: s.message["author"] if s.message else None
    if field == "message_public":
        return lambda s: bool(s.message and s.message["public"])
    if field == "business_hours":
        return lambda s: s.in_business_hours
    if field == "message_sentiment":
        return lambda s: getattr(_feeling(s), "label", None)
    if field == "message_frustrated":
        return lambda s: bool(getattr(_feeling(s), "frustrated", False))
    if field.startswith("custom_fields."):
        key = field.removeprefix("custom_fields.")
        return lambda s: (s.fields.get("custom_fields") or {}).get(key)
    return lambda s: s.fields.get(field)


def _feeling(s: Snapshot) -> sentiment.Sentiment | None:
    """The message's sentiment, computed from its text (a fraction of a millisecond)."""
    return sentiment.sentiment(s.message["text"]) if s.message else None


def _change(field: str) -> Callable[[Snapshot], tuple[Any, Any] | None]:
    """(old, new) when the change set ``field`` to something else, else None."""
    if field.startswith("custom_fields."):
        key = field.removeprefix("custom_fields.")

        def custom(s: Snapshot) -> tuple[Any, Any] | None:
            pair = s.changes.get("custom_fields")
            if pair is None:
                return None
            old, new = (pair[0] or {}).get(key), (pair[1] or {}).get(key)
            return None if old == new else (old, new)

        return custom

    def plain(s: Snapshot) -> tuple[Any, Any] | None:
        pair = s.changes.get(field)
        return None if pair is None or pair[0] == pair[1] else pair

    return plain


def _tag_change(s: Snapshot) -> tuple[set[str], set[str]]:
    pair = s.changes.get("tags")
    if pair is None:
        return set(), set()
    old, new = set(pair[0] or ()), set(pair[1] or ())
    return new - old, old - new


def compile_condition(condition: Mapping[str, Any]) -> Predicate:
    field, op, value = condition["field"], condition["op"], condition.get("value")
    get = _getter(field)
    change = _change(field)
    if field == "tags":
        wanted = frozenset(value or ())
        if op == "includes":
            return lambda s: not wanted.isdisjoint(s.tags)
        if op == "not_includes":
            return lambda s: wanted.isdisjoint(s.tags)
        if op == "added":
            return lambda s: not wanted.isdisjoint(_tag_change(s)[0])
        if op == "removed":
            return lambda s: not wanted.isdisjoint(_tag_change(s)[1])
    if field == "message":
        if op == "present":
            return lambda s: s.message is not None
        if op == "absent":
            return lambda s: s.message is None
        needle = str(value).casefold()
        if op == "contains":
            return lambda s: s.message is not None and needle in s.message["text"].casefold()
        if op == "not_contains":
            return lambda s: s.message is None or needle not in s.message["text"].casefold()
    if op == "is":
        return lambda s: get(s) == value
    if op == "is_not":
        return lambda s: get(s) != value
    if op in ("in", "not_in"):
        members = frozenset(value or ())
        if op == "in":
            return lambda s: get(s) in members
        return lambda s: get(s) not in members
    if op in ("contains", "not_contains"):
        needle = str(value).casefold()

        def contains(s: Snapshot) -> bool:
            current = get(s)
            return current is not None and needle in str(current).casefold()

        return contains if op == "contains" else (lambda s: not contains(s))
    if op == "changed":
        return lambda s: change(s) is not None
    if op == "not_changed":
        return lambda s: change(s) is None
    if op == "changed_to":

        def changed_to(s: Snapshot) -> bool:
            pair = change(s)
            return pair is not None and pair[1] == value

        return changed_to
    if op == "changed_from":

        def changed_from(s: Snapshot) -> bool:
            pair = change(s)
            return pair is not None and pair[0] == value

        return changed_from
    raise ValueError(f"unknown operator {op!r} for {field!r}")  # schema.clean_condition refuses it first


def _all(predicates: Sequence[Predicate]) -> Predicate:
    if not predicates:
        return lambda s: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda s: all(p(s) for p in predicates)


def _any(predicates: Sequence[Predicate]) -> Predicate:
    return lambda s: any(p(s) for p in predicates)


def _cost(condition: Mapping[str, Any]) -> int:
    """Cheap conditions first: a rule that fails on its status never loads tags or a calendar."""
    if "any" in condition:
        return max(_cost(c) for c in condition["any"])
    return {"business_hours": 3, "tags": 2, "message": 1, "message_sentiment": 1, "message_frustrated": 1}.get(
        condition["field"], 0
    )


def compile_conditions(conditions: Sequence[Mapping[str, Any]]) -> Predicate:
    """One predicate for a rule's cleaned conditions (all must hold; a group, one of its own)."""
    ordered = sorted(conditions, key=_cost)
    parts = [
        _any([compile_condition(c) for c in item["any"]]) if "any" in item else compile_condition(item)
        for item in ordered
    ]
    return _all(parts)
