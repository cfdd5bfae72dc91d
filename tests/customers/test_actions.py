"""Customers and organizations (customers.actions)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.core.errors import InvalidInput
from deskpilot.customers import actions
from deskpilot.customers.models import Customer, CustomerEmail, Organization, Tier
from tests import factories

pytestmark = pytest.mark.django_db


# --- find_or_create_customer -------------------------------------------------------------------


def test_address_lookup_uses_the_case_insensitive_index() -> None:
    """The lookup by address must be one the unique index on lower(address) can answer; any
    other spelling of case-insensitivity scans every address of a million customers."""
    customer = actions.find_or_create_customer("Ann.Smith@Example.COM")
    with CaptureQueriesContext(connection) as captured:
        assert actions.find_customer_by_email("ann.smith@EXAMPLE.com") == customer
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tiny tables make a sequential scan cheapest; forbid it, so only the index can answer.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "unique_customer_email_ci" in plan, plan


def test_find_or_create_is_case_insensitive() -> None:
    first = actions.find_or_create_customer("Ann.Smith@Example.COM", "Ann Smith")
    for spelling in ("ann.smith@example.com", "ANN.SMITH@EXAMPLE.COM", "  Ann.Smith@example.com  "):
        assert actions.find_or_create_customer(spelling, "Someone Else").pk == first.pk
    assert Customer.objects.count() == 1
    assert CustomerEmail.objects.get().address == "Ann.Smith@example.com"
    assert first.name == "Ann Smith"


def test_any_of_a_customers_addresses_finds_them() -> None:
    customer = actions.create_customer(name="Bo", emails=["bo@work.test", "Bo@Home.test"])
    assert actions.find_or_create_customer("BO@home.TEST").pk == customer.pk


def test_new_customer_names() -> None:
    assert actions.find_or_create_customer("jane.doe@example.test").name == "jane.doe"
    assert actions.find_or_create_customer("x@example.test", "  Mary \n Jones ").name == "Mary Jones"
    assert actions.find_or_create_customer("y@example.test", "   ").name == "y"


def test_new_customer_joins_the_organization_claiming_the_domain() -> None:
    acme = factories.organization(name="Acme", domains=["acme.test", "acme-corp.test"])
    factories.organization(name="My Acme", domains=["myacme.test"])
    assert actions.find_or_create_customer("ann@ACME.test").organization_id == acme.pk
    assert actions.find_or_create_customer("bob@acme-corp.test").organization_id == acme.pk
    # Substrings and subdomains are other domains.
    assert actions.find_or_create_customer("cy@cme.test").organization_id is None
    assert actions.find_or_create_customer("di@sub.acme.test").organization_id is None
    my_acme = actions.find_or_create_customer("ed@myacme.test").organization
    assert my_acme is not None
    assert my_acme.name == "My Acme"


def test_an_existing_customer_keeps_their_organization() -> None:
    customer = actions.find_or_create_customer("early@later.test")
    factories.organization(domains=["later.test"])
    assert actions.find_or_create_customer("early@later.test").organization_id is None
    assert customer.organization_id is None


@pytest.mark.parametrize("address", ["", "not-an-email", "a@", "@b.test", "a b@c.test", "a@b@c.test", None, 5])
def test_invalid_addresses_are_refused(address: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        actions.find_or_create_customer(address)
    assert set(error.value.errors) == {"requester.email"}
    assert not Customer.objects.exists()


def test_clean_email_lowercases_only_the_domain() -> None:
    assert actions.clean_email("  First.Last@Example.ORG ") == "First.Last@example.org"


# --- create and update customers ---------------------------------------------------------------


def test_create_customer() -> None:
    org = factories.organization(domains=["example.test"])
    customer = actions.create_customer(
        name=" Pat ", emails=["pat@example.test", "pat@home.test"], time_zone="Europe/Lisbon", language="pt-BR"
    )
    assert (customer.name, customer.time_zone, customer.language) == ("Pat", "Europe/Lisbon", "pt-BR")
    assert customer.organization_id == org.pk
    assert customer.primary_email == "pat@example.test"
    assert [(e.address, e.is_primary) for e in customer.emails.all()] == [
        ("pat@example.test", True),
        ("pat@home.test", False),
    ]


def test_explicit_organization_wins_over_the_domain() -> None:
    factories.organization(domains=["example.test"])
    chosen = factories.organization()
    customer = actions.create_customer(name="Pat", emails=["pat@example.test"], organization=chosen)
    assert customer.organization_id == chosen.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["bad"]}, "emails[0]"),
        ({"emails": ["a@x.test", "A@X.test"]}, "emails"),
        ({"emails": ["new@x.test", "Taken@X.test"]}, "emails[1]"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone"),
        ({"time_zone": "europe/berlin"}, "time_zone"),
        ({"language": "e"}, "language"),
        ({"language": "en_US!"}, "language"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"tier": "gold"}, "tier"),
    ],
)
def test_create_customer_validation(kwargs: dict[str, Any], field: str) -> None:
    factories.customer(email="taken@x.test")
    arguments: dict[str, Any] = {"name": "Pat", "emails": ["pat@x.test"], **kwargs}
    with pytest.raises(InvalidInput) as error:
        actions.create_customer(**arguments)
    assert set(error.value.errors) == {field}
    assert Customer.objects.count() == 1


def test_update_customer_replaces_the_email_list() -> None:
    customer = actions.create_customer(name="Pat", emails=["old@x.test", "keep@x.test"])
    actions.update_customer(customer, emails=["KEEP@x.test", "new@x.test"], name="Pat Q", tier=Tier.PREMIUM)
    customer.refresh_from_db()
    assert [(e.address, e.is_primary) for e in customer.emails.all()] == [("KEEP@x.test", True), ("new@x.test", False)]
    assert (customer.name, customer.tier, customer.effective_tier) == ("Pat Q", "premium", "premium")
    assert actions.find_customer_by_email("old@x.test") is None


def test_effective_tier_falls_back_to_the_organization() -> None:
    org = factories.organization(tier=Tier.ENTERPRISE)
    customer = factories.customer(organization=org)
    assert customer.effective_tier == Tier.ENTERPRISE
    assert factories.customer().effective_tier == Tier.STANDARD


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["theirs@x.test"]}, "emails[0]"),
        ({"time_zone": "Mars/Base"}, "time_zone"),
        ({"email": "x@x.test"}, "email"),
        ({"user": None}, "user"),
    ],
)
def test_update_customer_validation(changes: dict[str, Any], field: str) -> None:
    factories.customer(email="theirs@x.test")
    customer = factories.customer(email="mine@x.test", name="Mine")
    with pytest.raises(InvalidInput) as error:
        actions.update_customer(customer, **changes)
    assert set(error.value.errors) == {field}
    customer.refresh_from_db()
    assert [e.address for e in customer.emails.all()] == ["mine@x.test"]


def test_invalid_update_changes_nothing() -> None:
    customer = factories.customer(email="mine@x.test", name="Mine")
    with pytest.raises(InvalidInput):
        actions.update_customer(customer, name="Changed", time_zone="Nowhere")
    customer.refresh_from_db()
    assert customer.name == "Mine"


# --- organizations -----------------------------------------------------------------------------


def test_create_organization_cleans_domains() -> None:
    org = actions.create_organization(name=" Acme  Inc ", domains=["Acme.TEST", " acme.test ", "b.test"])
    assert (org.name, org.domains, org.tier, org.shared_tickets) == (
        "Acme Inc",
        ["acme.test", "b.test"],
        "standard",
        False,
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "acme"}, "name"),
        ({"name": ""}, "name"),
        ({"domains": ["nodot"]}, "domains"),
        ({"domains": ["a@b.test"]}, "domains"),
        ({"domains": ["a b.test"]}, "domains"),
        ({"domains": [5]}, "domains"),
        ({"tier": "vip"}, "tier"),
        ({"tier": ""}, "tier"),
    ],
)
def test_create_organization_validation(kwargs: dict[str, Any], field: str) -> None:
    factories.organization(name="Acme")
    with pytest.raises(InvalidInput) as error:
        actions.create_organization(**{"name": "New", **kwargs})
    assert set(error.value.errors) == {field}
    assert Organization.objects.count() == 1


def test_update_organization() -> None:
    factories.organization(name="Taken")
    org = factories.organization(name="Mine")
    actions.update_organization(org, domains=["NEW.test"], shared_tickets=True, tier=Tier.PREMIUM, notes="n")
    org.refresh_from_db()
    assert (org.domains, org.shared_tickets, org.tier, org.notes) == (["new.test"], True, "premium", "n")
    for changes, field in (({"name": "taken"}, "name"), ({"colour": "red"}, "colour"), ({"tier": "x"}, "tier")):
        with pytest.raises(InvalidInput) as error:
            actions.update_organization(org, **changes)
        assert set(error.value.errors) == {field}
    actions.update_organization(org, name="MINE")  # its own name in another case is fine
    assert Organization.objects.get(pk=org.pk).name == "MINE"


def test_email_longer_than_the_column_is_refused() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    with pytest.raises(InvalidInput) as error:
        actions.find_or_create_customer(address)
    assert "requester.email" in error.value.errors
