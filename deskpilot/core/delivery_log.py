"""What the delivery logs share (a webhook's deliveries, a scheduled report's): newest first, a
status filter, a page at a time by keyset (a cursor in the address), a bad cursor named above the
list with a 422. Each app's view adds its own object and template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import QuerySet, TextChoices
from django.http import HttpRequest, QueryDict

from deskpilot.core.api_support import Ordering, keyset_page
from deskpilot.core.errors import InvalidInput

PAGE_SIZE = 50
NEWEST_FIRST = Ordering(column="created_at", descending=True)


class DeliveryFilterForm(forms.Form):
    """The log's status filter (GET); a subclass names its ``statuses``."""

    statuses: type[TextChoices]

    status = forms.ChoiceField(required=False)
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "All"), *self.statuses.choices]
        field.error_messages["invalid_choice"] = "%(value)s is not a status; choose from: " + ", ".join(
            self.statuses.values
        )


def with_cursor(params: QueryDict, cursor: str | None) -> str:
    """The log's address with the same filter, at another page (None: the first)."""
    query = params.copy()
    query.pop("cursor", None)
    if cursor:
        query["cursor"] = cursor
    return "?" + query.urlencode()


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    filters: forms.Form
    next_url: str | None
    first_url: str | None

    @property
    def status(self) -> int:
        return 422 if self.filters.errors else 200

    def context(self) -> dict[str, Any]:
        return {"rows": self.rows, "filters": self.filters, "next_url": self.next_url, "first_url": self.first_url}


def page(request: HttpRequest, deliveries: QuerySet[Any], filters: DeliveryFilterForm) -> Page:
    """The page of ``deliveries`` the request's filter and cursor ask for."""
    cursor = request.GET.get("cursor") or None
    rows: list[Any] = []
    next_cursor: str | None = None
    if filters.is_valid():
        if filters.cleaned_data["status"]:
            deliveries = deliveries.filter(status=filters.cleaned_data["status"])
        try:
            rows, next_cursor = keyset_page(deliveries, ordering=NEWEST_FIRST, cursor=cursor, limit=PAGE_SIZE)
        except InvalidInput as error:
            # The cursor is not a visible field: its problem is shown above the list.
            for field, problem in error.errors.items():
                filters.add_error(None, f"{field}: {problem}")
    return Page(
        rows,
        filters,
        with_cursor(request.GET, next_cursor) if next_cursor else None,
        with_cursor(request.GET, None) if cursor else None,
    )
