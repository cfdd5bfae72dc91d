"""Django admin for organizations and customers (the CRM side).

Organizations are written through ``customers.actions`` (``ActionForm``), so names, domains and
tiers obey the same rules as in the API. Customers are edited with their email addresses inline;
the fields are checked by the same cleaners the actions use. Nothing is deleted here: a customer
is the requester of tickets and the author of messages, and removing an organization would take
it off tickets without a TicketEvent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest

from deskpilot.accounts.admin import ActionAdminMixin, ActionForm
from deskpilot.core.errors import InvalidInput
from deskpilot.customers import actions as customer_actions
from deskpilot.customers.models import Customer, CustomerEmail, Organization

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin


def _as_form_error(error: InvalidInput) -> forms.ValidationError:
    return forms.ValidationError("; ".join(error.errors.values()))


# --- organizations -------------------------------------------------------------------------------


class OrganizationForm(ActionForm):
    domains = forms.CharField(
        required=False,
        help_text="Email domains whose senders join this organization, separated by commas (example.com, example.org).",
    )

    class Meta:
        model = Organization
        fields = ("name", "domains", "tier", "shared_tickets", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["domains"] = ", ".join(self.instance.domains)

    def clean_domains(self) -> list[str]:
        raw = self.cleaned_data.get("domains") or ""
        # Validated (and lower-cased, de-duplicated) by the action in ActionForm.clean.
        return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]

    def perform(self) -> Organization:
        data = self.cleaned_data
        values = {
            "name": data["name"],
            "domains": data["domains"],
            "tier": data["tier"],
            "notes": data["notes"],
            "shared_tickets": data["shared_tickets"],
        }
        if self.instance.pk is None:
            return customer_actions.create_organization(**values)
        # A fresh copy: update_organization compares names against what is stored.
        return customer_actions.update_organization(Organization.objects.get(pk=self.instance.pk), **values)


@admin.register(Organization)
class OrganizationAdmin(ActionAdminMixin):
    form = OrganizationForm
    list_display = ("name", "tier", "shared_tickets", "domain_list", "created_at")
    list_filter = ("tier", "shared_tickets")
    search_fields = ("name",)
    show_full_result_count = False
    readonly_fields = ("created_at",)

    @admin.display(description="Domains")
    def domain_list(self, obj: Organization) -> str:
        return ", ".join(obj.domains)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- customers -----------------------------------------------------------------------------------


class CustomerEmailForm(forms.ModelForm):
    class Meta:
        model = CustomerEmail
        fields = ("address", "is_primary")

    def clean_address(self) -> str:
        try:
            return customer_actions.clean_email(self.cleaned_data["address"], "address")
        except InvalidInput as error:
            raise _as_form_error(error) from None


class CustomerEmailFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not kept:
            raise forms.ValidationError("A customer needs at least one email address.")
        if sum(1 for f in kept if f.cleaned_data.get("is_primary")) > 1:
            raise forms.ValidationError("Only one address can be the primary one.")
        addresses = [str(f.cleaned_data.get("address", "")).lower() for f in kept]
        if len(set(addresses)) != len(addresses):
            raise forms.ValidationError("The same address is listed twice.")
        # Addresses are unique case-insensitively across all customers, so mail from an address
        # always finds the same person; the database constraint is the last line, this the message.
        for form in kept:
            address = form.cleaned_data.get("address")
            if not address:
                continue
            clash = CustomerEmail.objects.filter(address__iexact=address)
            if self.instance.pk:
                clash = clash.exclude(customer_id=self.instance.pk)
            owner = clash.values_list("customer_id", flat=True).first()
            if owner is not None:
                form.add_error("address", f"{address} already belongs to customer {owner}.")


class CustomerEmailInline(admin.TabularInline):
    model = CustomerEmail
    form = CustomerEmailForm
    formset = CustomerEmailFormSet
    extra = 0
    min_num = 1
    fields = ("address", "is_primary", "created_at")
    readonly_fields = ("created_at",)


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ("name", "organization", "tier", "time_zone", "language", "notes")

    def _clean_with(self, name: str, cleaner: Any) -> str:
        try:
            return str(cleaner(self.cleaned_data[name], name))
        except InvalidInput as error:
            raise _as_form_error(error) from None

    def clean_name(self) -> str:
        return self._clean_with("name", customer_actions.clean_name)

    def clean_time_zone(self) -> str:
        return self._clean_with("time_zone", customer_actions.clean_time_zone)

    def clean_language(self) -> str:
        return self._clean_with("language", customer_actions.clean_language)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerForm
    list_display = ("name", "email", "organization", "tier", "created_at")
    list_filter = ("tier",)
    list_select_related = ("organization",)
    # Searched by get_search_results; the field only turns the search box on.
    search_fields = ("name",)
    search_help_text = "Part of a name or of an email address, or a whole email address."
    # The id is indexed; the name is not, and customers number in the hundreds of thousands.
    ordering = ("-id",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    autocomplete_fields = ("organization",)
    # The sign-in account is linked when it is created (accounts.actions.create_user); linking
    # another one here could hand a customer's tickets to a staff account.
    readonly_fields = ("user", "created_at")
    fields = ("name", "organization", "tier", "time_zone", "language", "notes", "user", "created_at")
    inlines: ClassVar[list[type[InlineModelAdmin[Any, Any]]]] = [CustomerEmailInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        # Customer.primary_email reads the prefetched list: one query per page, not per row.
        return super().get_queryset(request).prefetch_related("emails")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Customer], search_term: str
    ) -> tuple[QuerySet[Customer], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term and " " not in term:
            # A whole address is answered by the case-insensitive unique index on the addresses.
            owners = CustomerEmail.objects.annotate(lowered=Lower("address")).filter(lowered=term.lower())
            return queryset.filter(pk__in=owners.values("customer_id")), False
        # A subquery rather than a join: no DISTINCT over every customer to drop the duplicates.
        by_email = CustomerEmail.objects.filter(address__icontains=term).values("customer_id")
        return queryset.filter(Q(name__icontains=term) | Q(pk__in=by_email)), False

    @admin.display(description="Email")
    def email(self, obj: Customer) -> str:
        return obj.primary_email

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
