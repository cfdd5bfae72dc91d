"""A form base class for the pages: accessible error wiring and InvalidInput mapped to fields."""

from __future__ import annotations

from typing import Any

from django import forms

from deskpilot.core.errors import InvalidInput


class PageForm(forms.Form):
    """Fields point at their hint and error text (aria-describedby) and say when they are
    invalid (aria-invalid), so a screen reader announces the problem with the field."""

    def full_clean(self) -> None:
        super().full_clean()
        self._mark_errors()

    def _mark_errors(self) -> None:
        for name, bound in self._bound_items():
            attrs = bound.field.widget.attrs
            described = []
            if bound.help_text:
                described.append(f"{bound.auto_id}_hint")
            if name in self.errors:
                described.append(f"{bound.auto_id}_error")
                attrs["aria-invalid"] = "true"
            else:
                attrs.pop("aria-invalid", None)
            if described:
                attrs["aria-describedby"] = " ".join(described)

    def _bound_items(self) -> list[tuple[str, Any]]:
        return [(name, self[name]) for name in self.fields]

    def add_action_error(self, error: InvalidInput, field_map: dict[str, str] | None = None) -> None:
        """Show an action's InvalidInput next to the fields it names (or above the form when the
        form has no such field), so page and API report the same problem the same way."""
        for field_name, problem in error.errors.items():
            name = (field_map or {}).get(field_name, field_name)
            head = name.split(".")[0].split("[")[0]
            if head in self.fields:
                self.add_error(head, problem)
            else:
                self.add_error(None, f"{field_name}: {problem}")
        self._mark_errors()
