"""/api/v1/customers and /api/v1/organizations: list, get, create, update, validation."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.customers.models import Customer, CustomerEmail, Organization
from tests import factories
from tests.api.conftest import Api, caller, errors_of

pytestmark = pytest.mark.django_db


def walk(api: Api, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get(path, {**(params or {}), "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        items.extend(page.json()["items"])
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


# --- customers ---------------------------------------------------------------------------------


def test_create_and_get_customer(agent_api: Api) -> None:
    org = factories.organization(name="Acme")
    response = agent_api.post(
        "/customers",
        {
            "name": "  Ann   Smith ",
            "emails": ["Ann@Example.TEST", "ann.smith@example.test"],
            "organization_id": org.pk,
            "time_zone": "Europe/Berlin",
            "language": "de",
            "notes": "prefers email",
            "tier": "premium",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Ann Smith",
        "emails": ["Ann@example.test", "ann.smith@example.test"],
        "organization": {"id": org.pk, "name": "Acme"},
        "tier": "premium",
        "time_zone": "Europe/Berlin",
        "language": "de",
        "notes": "prefers email",
        "has_account": False,
    }
    assert agent_api.get(f"/customers/{body['id']}").json() == body
    assert CustomerEmail.objects.get(customer_id=body["id"], is_primary=True).address == "Ann@example.test"


def test_new_customer_joins_the_organization_of_their_domain(agent_api: Api) -> None:
    org = factories.organization(domains=["acme.test"])
    body = agent_api.post("/customers", {"name": "Bo", "emails": ["bo@ACME.test"]}).json()
    assert body["organization"]["id"] == org.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "emails": ["not-an-email"]}, "emails[0]"),
        ({"name": "X", "emails": ["ok@example.test", "bad@"]}, "emails[1]"),
        ({"name": "X", "emails": []}, "emails"),
        ({"name": "X", "emails": ["a@example.test", "A@example.test"]}, "emails"),
        ({"name": "X", "emails": ["a@example.test"], "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "emails": ["a@example.test"], "language": "!!"}, "language"),
        ({"name": "X", "emails": ["a@example.test"], "tier": "gold"}, "tier"),
        ({"name": "X", "emails": ["a@example.test"], "organization_id": 999_999}, "organization_id"),
        ({"name": "   ", "emails": ["a@example.test"]}, "name"),
        ({"emails": ["a@example.test"]}, "name"),
        ({"name": "X", "emails": "a@example.test"}, "emails"),
        ({"name": "X", "emails": ["a@example.test"], "vip": True}, "vip"),
    ],
)
def test_create_customer_validation(agent_api: Api, payload: dict[str, Any], field: str) -> None:
    response = agent_api.post("/customers", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    assert not Customer.objects.exists()


def test_duplicate_email_is_refused_case_insensitively(agent_api: Api) -> None:
    factories.customer(email="taken@example.test")
    response = agent_api.post("/customers", {"name": "X", "emails": ["new@example.test", "TAKEN@example.test"]})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"emails[1]"}
    assert Customer.objects.count() == 1


def test_update_customer(agent_api: Api) -> None:
    org = factories.organization()
    customer = factories.customer(email="old@example.test", organization=org)
    url = f"/customers/{customer.pk}"
    body = agent_api.patch(url, {"name": "New Name", "emails": ["new@example.test", "old@example.test"]}).json()
    assert body["name"] == "New Name"
    assert body["emails"] == ["new@example.test", "old@example.test"]
    assert body["organization"]["id"] == org.pk
    # Absent fields stay; organization_id null detaches.
    body = agent_api.patch(url, {"organization_id": None}).json()
    assert body["organization"] is None
    assert body["name"] == "New Name"
    body = agent_api.patch(url, {"time_zone": "America/New_York", "tier": "enterprise"}).json()
    assert (body["time_zone"], body["tier"]) == ("America/New_York", "enterprise")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"emails": ["bad"]}, "emails[0]"),
        ({"emails": []}, "emails"),
        ({"time_zone": "Nowhere/City"}, "time_zone"),
        ({"organization_id": 999_999}, "organization_id"),
        ({"name": None}, "name"),
        ({"emails": None}, "emails"),
        ({"name": ""}, "name"),
        ({"nmae": "typo"}, "nmae"),
        ({"tier": "platinum"}, "tier"),
    ],
)
def test_update_customer_validation(agent_api: Api, payload: dict[str, Any], field: str) -> None:
    customer = factories.customer(email="me@example.test", name="Me")
    response = agent_api.patch(f"/customers/{customer.pk}", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    customer.refresh_from_db()
    assert customer.name == "Me"
    assert [e.address for e in customer.emails.all()] == ["me@example.test"]


def test_update_to_another_customers_email_is_refused(agent_api: Api) -> None:
    factories.customer(email="theirs@example.test")
    mine = factories.customer(email="mine@example.test")
    response = agent_api.patch(f"/customers/{mine.pk}", {"emails": ["mine@example.test", "Theirs@Example.test"]})
    assert response.status_code == 422
    assert set(errors_of(response)) == {"emails[1]"}
    # Keeping one's own address is fine, in any case.
    assert agent_api.patch(f"/customers/{mine.pk}", {"emails": ["MINE@example.test"]}).status_code == 200


def test_unknown_customer_is_404(agent_api: Api) -> None:
    assert agent_api.get("/customers/999999").status_code == 404
    assert agent_api.patch("/customers/999999", {"notes": "x"}).status_code == 404


def test_list_customers_search_filter_and_pages(agent_api: Api) -> None:
    acme = factories.organization(name="Acme")
    for i in range(3):
        factories.customer(email=f"person{i}@acme.test", name=f"Acme Person {i}", organization=acme)
    factories.customer(email="zed@other.test", name="Zed")
    factories.customer(email="ANNA@shop.test", name="Anna")
    everyone = walk(agent_api, "/customers")
    assert len(everyone) == 5
    assert [c["id"] for c in everyone] == sorted(c["id"] for c in everyone)
    assert {c["name"] for c in walk(agent_api, "/customers", {"organization": acme.pk})} == {
        "Acme Person 0",
        "Acme Person 1",
        "Acme Person 2",
    }
    assert [c["name"] for c in walk(agent_api, "/customers", {"q": "zed"})] == ["Zed"]
    assert [c["name"] for c in walk(agent_api, "/customers", {"q": "anna@SHOP"})] == ["Anna"]
    assert walk(agent_api, "/customers", {"q": "nobody"}) == []
    response = agent_api.get("/customers", {"cursor": "bogus"})
    assert set(errors_of(response)) == {"cursor"}


# --- organizations -----------------------------------------------------------------------------


def test_create_get_and_update_organization() -> None:
    manager = caller("manager")
    response = manager.post(
        "/organizations",
        {"name": "Globex", "domains": ["Globex.test", "globex.example"], "tier": "enterprise", "shared_tickets": True},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["domains"] == ["globex.example", "globex.test"]
    assert body["shared_tickets"] is True
    assert manager.get(f"/organizations/{body['id']}").json() == body
    changed = manager.patch(f"/organizations/{body['id']}", {"notes": "key account", "shared_tickets": False}).json()
    assert (changed["notes"], changed["shared_tickets"], changed["tier"]) == ("key account", False, "enterprise")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "domains": ["not a domain"]}, "domains"),
        ({"name": "X", "domains": ["user@example.test"]}, "domains"),
        ({"name": "X", "tier": "gold"}, "tier"),
        ({"name": "X", "tier": ""}, "tier"),
        ({"name": "X", "shared": True}, "shared"),
        ({"name": "Existing"}, "name"),
        ({"name": "existing"}, "name"),
    ],
)
def test_organization_validation(payload: dict[str, Any], field: str) -> None:
    manager = caller("manager")
    factories.organization(name="Existing")
    response = manager.post("/organizations", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    assert Organization.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": None}, "name"), ({"name": "Other"}, "name"), ({"domains": ["x"]}, "domains"), ({"tier": 3}, "tier")],
)
def test_organization_update_validation(payload: dict[str, Any], field: str) -> None:
    manager = caller("manager")
    factories.organization(name="Other")
    org = factories.organization(name="Mine")
    response = manager.patch(f"/organizations/{org.pk}", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    org.refresh_from_db()
    assert org.name == "Mine"


def test_list_organizations(agent_api: Api) -> None:
    for name in ("Acme", "Globex", "Initech"):
        factories.organization(name=name)
    assert [o["name"] for o in walk(agent_api, "/organizations")] == ["Acme", "Globex", "Initech"]
    assert [o["name"] for o in walk(agent_api, "/organizations", {"q": "GLOB"})] == ["Globex"]
    assert agent_api.get("/organizations/999999").status_code == 404
