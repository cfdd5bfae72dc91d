"""Changes to customers and organizations."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Customer, CustomerEmail, Organization, Tier

NAME_MAX = 200
# What an address column holds (RFC 5321 limits a forward path to 254 characters).
EMAIL_MAX = 254


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_email(value: Any, field: str = "email") -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be an email address")
    address = value.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(field, f"{address!r} is not a valid email address") from None
    if len(address) > EMAIL_MAX:
        raise InvalidInput(field, f"must be at most {EMAIL_MAX} characters")
    local, _, domain = address.rpartition("@")
    # The domain is case-insensitive; the local part is kept as written but matched case-insensitively.
    return f"{local}@{domain.lower()}"


def clean_time_zone(value: Any, field: str = "time_zone") -> str:
    if not isinstance(value, str) or value not in _time_zones():
        raise InvalidInput(field, f"{value!r} is not a known time zone (e.g. Europe/Berlin)")
    return value


def clean_name(value: Any, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must not be empty")
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(field, f"must be at most {NAME_MAX} characters")
    return name


def clean_language(value: Any, field: str = "language") -> str:
    if not isinstance(value, str) or not 2 <= len(value) <= 16 or not value.replace("-", "").isalnum():
        raise InvalidInput(field, f"{value!r} is not a language code (e.g. en, de, pt-BR)")
    return value


def _clean_tier(value: Any, *, allow_blank: bool) -> str:
    allowed = [t.value for t in Tier]
    if (value == "" and allow_blank) or value in allowed:
        return str(value)
    raise InvalidInput("tier", f"{value!r} is not one of: {', '.join(allowed)}")


def _clean_domains(domains: Iterable[Any]) -> list[str]:
    result = []
    for domain in domains:
        if not isinstance(domain, str) or "." not in domain or "@" in domain or " " in domain.strip():
            raise InvalidInput("domains", f"{domain!r} is not an email domain (e.g. example.com)")
        result.append(domain.strip().lower())
    return sorted(set(result))


def emails_matching(address: str) -> QuerySet[CustomerEmail]:
    """The CustomerEmail rows of ``address``, case-insensitively, found through the unique
    index. lower(address) = lower(%s) is the expression of the index unique_customer_email_ci,
    so both databases look the address up in it (address__iexact compiles to UPPER(...) =
    UPPER(...) on PostgreSQL and LIKE on SQLite, neither of which uses it, and scanned every
    address). Addresses are unique case-insensitively: at most one row."""
    return CustomerEmail.objects.alias(lowered=Lower("address")).filter(lowered=Lower(Value(address.strip())))


def find_customer_by_email(address: str) -> Customer | None:
    entry = emails_matching(address).select_related("customer").order_by().first()
    return entry.customer if entry else None


def organization_for_domain(address: str) -> Organization | None:
    domain = address.rpartition("@")[2].lower()
    if not domain:
        return None
    # Domain lists are short and organizations few per domain; JSON containment differs per
    # database, so the match is done here.
    for org in Organization.objects.filter(domains__icontains=domain).order_by("id"):
        if domain in org.domains:
            return org
    return None


def find_or_create_customer(email: str, name: str = "") -> Customer:
    """The customer who owns ``email`` (case-insensitively), created if new; a new customer
    joins the organization that claims their email domain."""
    address = clean_email(email, "requester.email")
    existing = find_customer_by_email(address)
    if existing is not None:
        return existing
    display = " ".join(name.split()) if name and name.strip() else address.split("@")[0]
    try:
        with transaction.atomic():
            customer = Customer.objects.create(name=display[:NAME_MAX], organization=organization_for_domain(address))
            CustomerEmail.objects.create(customer=customer, address=address, is_primary=True)
            return customer
    except IntegrityError:
        # Another process created the same address a moment ago: use theirs.
        found = find_customer_by_email(address)
        if found is None:
            raise
        return found


def create_customer(
    *,
    name: str,
    emails: Iterable[str],
    organization: Organization | None = None,
    time_zone: str = "UTC",
    language: str = "en",
    notes: str = "",
    tier: str = "",
) -> Customer:
    addresses = [clean_email(e, f"emails[{i}]") for i, e in enumerate(emails)]
    if not addresses:
        raise InvalidInput("emails", "give at least one email address")
    _check_emails_free(addresses)
    with transaction.atomic():
        customer = Customer.objects.create(
            name=clean_name(name),
            organization=organization or organization_for_domain(addresses[0]),
            time_zone=clean_time_zone(time_zone),
            language=clean_language(language),
            notes=notes,
            tier=_clean_tier(tier, allow_blank=True),
        )
        CustomerEmail.objects.bulk_create(
            [CustomerEmail(customer=customer, address=a, is_primary=i == 0) for i, a in enumerate(addresses)]
        )
    return customer


def _check_emails_free(addresses: list[str], *, except_customer: Customer | None = None) -> None:
    lowered = [a.lower() for a in addresses]
    if len(set(lowered)) != len(lowered):
        raise InvalidInput("emails", "lists the same address twice")
    for index, address in enumerate(addresses):
        owner = find_customer_by_email(address)
        if owner is not None and (except_customer is None or owner.pk != except_customer.pk):
            raise InvalidInput(f"emails[{index}]", f"{address} already belongs to customer {owner.pk}")


def update_customer(customer: Customer, **changes: Any) -> Customer:
    """Change name, organization, time_zone, language, notes, tier or emails (the full list,
    first is primary)."""
    cleaners: dict[str, Callable[[Any], str]] = {
        "name": clean_name,
        "time_zone": clean_time_zone,
        "language": clean_language,
        "notes": lambda v: str(v),
        "tier": lambda v: _clean_tier(v, allow_blank=True),
    }
    unknown = set(changes) - set(cleaners) - {"organization", "emails"}
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    values = {name: cleaners[name](value) for name, value in changes.items() if name in cleaners}
    addresses = None
    if "emails" in changes:
        addresses = [clean_email(e, f"emails[{i}]") for i, e in enumerate(changes["emails"])]
        if not addresses:
            raise InvalidInput("emails", "give at least one email address")
        _check_emails_free(addresses, except_customer=customer)
    with transaction.atomic():
        for name, value in values.items():
            setattr(customer, name, value)
        if "organization" in changes:
            customer.organization = changes["organization"]
        customer.save()
        if addresses is not None:
            customer.emails.all().delete()
            CustomerEmail.objects.bulk_create(
                [CustomerEmail(customer=customer, address=a, is_primary=i == 0) for i, a in enumerate(addresses)]
            )
    return customer


def create_organization(
    *, name: str, domains: Iterable[str] = (), tier: str = Tier.STANDARD, notes: str = "", shared_tickets: bool = False
) -> Organization:
    clean = clean_name(name)
    if Organization.objects.filter(name__iexact=clean).exists():
        raise InvalidInput("name", f"an organization called {clean!r} already exists")
    return Organization.objects.create(
        name=clean,
        domains=_clean_domains(domains),
        tier=_clean_tier(tier, allow_blank=False),
        notes=notes,
        shared_tickets=bool(shared_tickets),
    )


def update_organization(organization: Organization, **changes: Any) -> Organization:
    allowed = {"name", "domains", "tier", "notes", "shared_tickets"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    if "name" in changes:
        clean = clean_name(changes["name"])
        if Organization.objects.filter(name__iexact=clean).exclude(pk=organization.pk).exists():
            raise InvalidInput("name", f"an organization called {clean!r} already exists")
        organization.name = clean
    if "domains" in changes:
        organization.domains = _clean_domains(changes["domains"])
    if "tier" in changes:
        organization.tier = _clean_tier(changes["tier"], allow_blank=False)
    if "notes" in changes:
        organization.notes = str(changes["notes"])
    if "shared_tickets" in changes:
        organization.shared_tickets = bool(changes["shared_tickets"])
    organization.save()
    return organization
