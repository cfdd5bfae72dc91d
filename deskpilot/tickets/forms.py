"""Forms of the agent workspace's list pages: saving, renaming and sharing inbox views."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from deskpilot.core.forms import PageForm
from deskpilot.tickets.saved_views import NAME_MAX


class SavedViewForm(PageForm):
    """Name (and, for managers and admins, sharing) of a saved view. The checks themselves
    (empty, duplicate, who may share) live in ``saved_views`` and come back through
    ``add_action_error``, so the page and any other caller agree."""

    name = forms.CharField(
        label="View name",
        max_length=NAME_MAX,
        required=False,  # "must not be empty" comes from saved_views, next to the field
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Urgent billing"}),
    )
    shared = forms.BooleanField(label="Share with everyone", required=False)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        may_share: bool = False,
        prefix: str | None = None,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, prefix=prefix, initial=initial)
        if not may_share:
            del self.fields["shared"]
