"""Validation of admin-defined custom field values (see models.CustomField)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import CustomField, FieldKind

TEXT_MAX_CHARS = 10_000


def _clean_value(field: CustomField, value: Any) -> Any:
    kind = field.kind
    if kind == FieldKind.TEXT:
        if not isinstance(value, str):
            raise ValueError("must be text")
        if len(value) > TEXT_MAX_CHARS:
            raise ValueError(f"must be at most {TEXT_MAX_CHARS} characters")
        return value
    if kind == FieldKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("must be a number")
        try:
            number = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return int(number) if number.is_integer() and not (isinstance(value, float)) else number
    if kind == FieldKind.DATE:
        if not isinstance(value, str):
            raise ValueError("must be a date written YYYY-MM-DD")
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("must be a date written YYYY-MM-DD") from None
    if kind == FieldKind.DROPDOWN:
        # Compared with types, so that true does not pass for a choice of 1 (True == 1 in Python).
        if not any(type(value) is type(choice) and value == choice for choice in field.choices):
            raise ValueError("must be one of: " + ", ".join(map(str, field.choices)))
        return value
    if kind == FieldKind.CHECKBOX:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    raise ValueError(f"has an unknown kind {kind!r}")


def clean_custom_fields(
    changes: Mapping[str, Any], *, current: Mapping[str, Any] | None = None, creating: bool = False
) -> dict[str, Any]:
    """Merge ``changes`` into ``current`` and return the validated result. A value of None
    removes the field. Every problem is reported at once, each under ``custom_fields.<key>``."""
    definitions = {f.key: f for f in CustomField.objects.filter(active=True)}
    result = dict(current or {})
    errors: dict[str, str] = {}
    for key, value in changes.items():
        field = definitions.get(key)
        if field is None:
            errors[f"custom_fields.{key}"] = "is not a custom field"
            continue
        if value is None or value == "":
            result.pop(key, None)
            continue
        try:
            result[key] = _clean_value(field, value)
        except ValueError as problem:
            errors[f"custom_fields.{key}"] = str(problem)
    for key, field in definitions.items():
        if field.required and key not in result and (creating or key in changes):
            errors.setdefault(f"custom_fields.{key}", "is required")
    if errors:
        raise InvalidInput(errors)
    return result
