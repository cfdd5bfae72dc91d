"""Django admin for ticket configuration (custom fields, tags) and a read-only view of tickets.

Tickets, their messages and their events are read-only here: every change to a ticket goes through
``tickets.actions``, which records the TicketEvent that metrics, SLA clocks, audit and webhooks are
computed from. An admin form writing rows directly would change tickets with no history.

The ticket list must stay fast on a database of a million tickets: no full result count, filters
whose options cost nothing (choices, the short team list), related rows joined in the page query,
search through the full-text index instead of a LIKE scan, and ordering by the primary key.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from deskpilot.core import search
from deskpilot.core.errors import InvalidInput
from deskpilot.core.html import sanitize_html
from deskpilot.tickets.actions import clean_tag
from deskpilot.tickets.models import CustomField, FieldKind, Message, SavedView, Tag, Ticket, TicketEvent

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin


class _ReadOnly:
    """View permission only (admins and managers have it through their role)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- tickets -------------------------------------------------------------------------------------


class MessageInline(_ReadOnly, admin.StackedInline):
    model = Message
    extra = 0
    can_delete = False
    fields = (("created_at", "author", "public", "via"), "body")
    readonly_fields = ("created_at", "author", "public", "via", "body")
    verbose_name_plural = "Messages"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author_user", "author_customer")

    @admin.display(description="Author")
    def author(self, obj: Message) -> str:
        return obj.author_name

    @admin.display(description="Body")
    def body(self, obj: Message) -> SafeString:
        # body_html was sanitised when stored; it is sanitised again here because admin pages
        # run with the most privileges, and a row written outside the actions (an import, a
        # database restore) must not be able to run script in them. nh3 takes microseconds.
        return mark_safe(sanitize_html(obj.body_html))  # noqa: S308 - sanitised on the line above


class EventInline(_ReadOnly, admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "field", "old", "new", "actor", "via")
    readonly_fields = fields
    verbose_name_plural = "History (ticket events)"
    # Folded by default: the messages come first, the full history is one click away.
    classes = ("collapse",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor_user", "actor_customer")

    @admin.display(description="By")
    def actor(self, obj: TicketEvent) -> str:
        if obj.actor_user_id and obj.actor_user:
            return obj.actor_user.name
        if obj.actor_customer_id and obj.actor_customer:
            return obj.actor_customer.name
        return "Deskpilot"


@admin.register(Ticket)
class TicketAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ("number", "subject", "status", "priority", "requester", "team", "assignee_name", "updated")
    list_display_links = ("number", "subject")
    # Options from choices or the (short) team table; no filter that scans tickets to build itself.
    list_filter = ("status", "priority", "team")
    list_select_related = ("requester", "team", "assignee")
    # Newest first by the primary key, which every status/team/assignee index ends with.
    ordering = ("-id",)
    # Columns backed by an index that ends with the id; sorting by subject or a joined name
    # would sort every ticket.
    sortable_by = ("number", "status", "priority", "updated")
    show_full_result_count = False
    # "Show counts" would count every ticket once per filter option.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    # Searched through the full-text index (get_search_results); the field only turns the box on.
    search_fields = ("subject",)
    search_help_text = "Words from the subject or the messages, or a ticket number (#1234)."
    # Large tables: never render a <select> of every customer or user, should a form ever appear.
    raw_id_fields = ("requester", "organization", "assignee")
    # The conversation is what a reader comes for: the essentials fit above the messages, the
    # rest is folded away.
    fieldsets = (
        (None, {"fields": ("subject", ("status", "priority", "type", "channel"), ("requester", "organization"),
                           ("team", "assignee"))}),
        ("More", {"classes": ("collapse",), "fields": ("tag_list", "ccs", "followers", "custom_fields", "version",
                                                      ("created_at", "updated_at"), ("solved_at", "closed_at"))}),
    )  # fmt: skip
    readonly_fields = ("tag_list",)
    inlines: ClassVar[list[type[InlineModelAdmin[Any, Any]]]] = [MessageInline, EventInline]

    @admin.display(description="Tags")
    def tag_list(self, obj: Ticket) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())

    @admin.display(description="Assignee")
    def assignee_name(self, obj: Ticket) -> str:
        return obj.assignee.name if obj.assignee_id and obj.assignee else "-"

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj: Ticket) -> datetime.datetime:
        return obj.updated_at

    @admin.display(description="#", ordering="id")
    def number(self, obj: Ticket) -> str:
        return f"#{obj.pk}"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        number = term.removeprefix("#")
        if number.isdigit():
            return queryset.filter(pk=int(number)), False
        # Admins and managers read internal notes, so those are searched too.
        matching = search.matching_ids(term, include_internal=True)
        if matching is None:
            return queryset.none(), False
        return queryset.filter(pk__in=matching), False

    def get_actions(self, request: HttpRequest) -> Any:
        # No bulk actions: "delete selected" is refused anyway, and its checkbox column would
        # suggest tickets can be changed here.
        return {}


# --- configuration -------------------------------------------------------------------------------


class CustomFieldForm(forms.ModelForm):
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For dropdowns: the allowed values, one per line.",
    )

    class Meta:
        model = CustomField
        fields = ("key", "label", "kind", "choices", "required", "active", "position")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["choices"] = "\n".join(str(c) for c in (self.instance.choices or []))

    def clean_choices(self) -> list[str]:
        raw = self.cleaned_data.get("choices") or ""
        values = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(set(values)) != len(values):
            raise forms.ValidationError("A value is listed twice.")
        return values

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind", self.instance.kind)
        values = cleaned.get("choices") or []
        if kind == FieldKind.DROPDOWN and not values:
            self.add_error("choices", "A dropdown needs at least one value.")
        if kind != FieldKind.DROPDOWN and values:
            self.add_error("choices", "Only dropdowns have a list of values.")
        return cleaned


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    form = CustomFieldForm
    list_display = ("label", "key", "kind", "required", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("kind", "active")
    search_fields = ("key", "label")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Values live in Ticket.custom_fields under the key: renaming it would orphan them.
        return ("key",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Untick "active" instead: a deleted key could later be reused for a field of another
        # kind, and old tickets' values would then be read as the new kind.
        return False


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("name",)

    def clean_name(self) -> str:
        # Tags are stored in the form tickets.actions gives them ("Billing issue" -> billing-issue).
        try:
            return clean_tag(self.cleaned_data["name"])
        except InvalidInput as error:
            raise forms.ValidationError("; ".join(error.errors.values())) from None


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagForm
    list_display = ("name",)
    search_fields = ("name",)
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Renaming or deleting a tag changes every ticket carrying it without a TicketEvent.
        # Tickets get and lose tags through tickets.actions.update_ticket.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    """Saved inbox views: people manage theirs on the inbox; here for oversight and clean-up."""

    list_display = ("name", "owner", "shared", "sort", "updated_at")
    list_filter = ("shared",)
    search_fields = ("name", "owner__email")
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at")
