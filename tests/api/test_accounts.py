"""/api/v1/users, /api/v1/teams and /api/v1/me."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts.models import Role, Team, User
from deskpilot.customers.models import Customer
from tests import factories
from tests.api.conftest import Api, caller, errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_api() -> Api:
    return caller(Role.MANAGER)


def test_me(as_role: Any) -> None:
    for role in (Role.ADMIN, Role.AGENT, Role.COLLABORATOR, Role.CUSTOMER):
        api = as_role(role)
        body = api.get("/me").json()
        assert (body["id"], body["email"], body["role"]) == (api.user.pk, api.user.email, role)


# --- users -------------------------------------------------------------------------------------


def test_create_and_get_user(manager_api: Api) -> None:
    response = manager_api.post(
        "/users",
        {
            "email": "New.Agent@Example.TEST",
            "name": "New  Agent",
            "role": "agent",
            "password": "a-very-long-password",
            "time_zone": "Asia/Tokyo",
            "language": "ja",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {
        "id": body["id"],
        "email": "new.agent@example.test",
        "name": "New Agent",
        "role": "agent",
        "time_zone": "Asia/Tokyo",
        "language": "ja",
        "is_active": True,
        "team_ids": [],
    }
    assert manager_api.get(f"/users/{body['id']}").json() == body
    user = User.objects.get(pk=body["id"])
    assert user.check_password("a-very-long-password")
    assert "a-very-long-password" not in user.password


def test_a_customer_account_is_linked_to_its_customer(manager_api: Api) -> None:
    existing = factories.customer(email="client@example.test")
    body = manager_api.post("/users", {"email": "CLIENT@example.test", "name": "Client", "role": "customer"}).json()
    existing.refresh_from_db()
    assert existing.user_id == body["id"]
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "bad", "name": "X", "role": "agent"}, "email"),
        ({"email": "x@example.test", "name": "X", "role": "wizard"}, "role"),
        ({"email": "x@example.test", "name": "X", "role": "agent", "time_zone": "Utopia/Capital"}, "time_zone"),
        ({"email": "x@example.test", "name": "X", "role": "agent", "language": "x"}, "language"),
        ({"email": "x@example.test", "name": "X", "role": "agent", "password": "short"}, "password"),
        ({"email": "x@example.test", "name": "X", "role": "agent", "password": "password123"}, "password"),
        ({"email": "x@example.test", "name": " ", "role": "agent"}, "name"),
        ({"email": "x@example.test", "role": "agent"}, "name"),
        ({"email": "x@example.test", "name": "X", "role": "agent", "admin": True}, "admin"),
        ({"email": "TAKEN@example.test", "name": "X", "role": "agent"}, "email"),
    ],
)
def test_create_user_validation(manager_api: Api, payload: dict[str, Any], field: str) -> None:
    factories.user(Role.AGENT, email="taken@example.test")
    before = User.objects.count()
    response = manager_api.post("/users", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    assert User.objects.count() == before


def test_update_user(manager_api: Api) -> None:
    agent = factories.user(Role.AGENT)
    url = f"/users/{agent.pk}"
    body = manager_api.patch(url, {"name": "Renamed", "role": "manager", "time_zone": "Europe/Paris"}).json()
    assert (body["name"], body["role"], body["time_zone"]) == ("Renamed", "manager", "Europe/Paris")
    assert manager_api.patch(url, {"password": "another-long-password"}).status_code == 200
    agent.refresh_from_db()
    assert agent.check_password("another-long-password")
    assert manager_api.patch(url, {"is_active": False}).json()["is_active"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"role": "customer"}, "role"),
        ({"role": "wizard"}, "role"),
        ({"time_zone": "Not/AZone"}, "time_zone"),
        ({"name": None}, "name"),
        ({"is_active": None}, "is_active"),
        ({"password": "short"}, "password"),
        ({"email": "new@example.test"}, "email"),
    ],
)
def test_update_user_validation(manager_api: Api, payload: dict[str, Any], field: str) -> None:
    agent = factories.user(Role.AGENT, name="Kept")
    response = manager_api.patch(f"/users/{agent.pk}", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    agent.refresh_from_db()
    assert (agent.name, agent.role, agent.is_active) == ("Kept", Role.AGENT, True)


def test_nobody_changes_their_own_role_or_deactivates_themselves() -> None:
    admin = caller(Role.ADMIN)
    url = f"/users/{admin.user.pk}"  # type: ignore[union-attr]
    assert set(errors_of(admin.patch(url, {"role": "agent"}))) == {"role"}
    assert set(errors_of(admin.patch(url, {"is_active": False}))) == {"is_active"}
    assert admin.patch(url, {"name": "Still Admin"}).status_code == 200


def test_list_users_with_role_filter_and_pages(manager_api: Api) -> None:
    for _ in range(3):
        factories.user(Role.AGENT)
    factories.team(members=list(User.objects.filter(role=Role.AGENT)[:1]))
    factories.customer_user()
    agents = manager_api.get("/users", {"role": "agent", "limit": 2})
    assert agents.status_code == 200
    seen = [u["id"] for u in agents.json()["items"]]
    seen += [
        u["id"]
        for u in manager_api.get("/users", {"role": "agent", "cursor": agents.json()["next_cursor"]}).json()["items"]
    ]
    assert sorted(seen) == sorted(User.objects.filter(role=Role.AGENT).values_list("pk", flat=True))
    assert {u["role"] for u in manager_api.get("/users", {"role": "customer"}).json()["items"]} == {"customer"}
    assert set(errors_of(manager_api.get("/users", {"role": "wizard"}))) == {"role"}
    assert manager_api.get("/users/999999").status_code == 404
    assert manager_api.patch("/users/999999", {"name": "x"}).status_code == 404


# --- teams -------------------------------------------------------------------------------------


def test_create_get_and_update_team(manager_api: Api) -> None:
    lead, member, other = factories.user(Role.AGENT), factories.user(Role.AGENT), factories.user(Role.MANAGER)
    response = manager_api.post(
        "/teams", {"name": "Billing", "description": "Money", "lead_id": lead.pk, "member_ids": [member.pk]}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_ids"] == sorted([lead.pk, member.pk])  # the lead is a member
    assert body["lead_id"] == lead.pk
    assert manager_api.get(f"/teams/{body['id']}").json() == body
    changed = manager_api.patch(f"/teams/{body['id']}", {"member_ids": [other.pk], "lead_id": None}).json()
    assert (changed["member_ids"], changed["lead_id"]) == ([other.pk], None)
    assert manager_api.get(f"/users/{other.pk}").json()["team_ids"] == [body["id"]]
    renamed = manager_api.patch(f"/teams/{body['id']}", {"name": "Payments"}).json()
    assert (renamed["name"], renamed["member_ids"]) == ("Payments", [other.pk])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "billing"}, "name"),
        ({"name": "X", "lead_id": 999_999}, "lead_id"),
        ({"name": "X", "member_ids": [999_999]}, "member_ids"),
        ({"name": "X", "member_ids": "all"}, "member_ids"),
        ({"name": "X", "colour": "red"}, "colour"),
        ({"name": "X", "member_ids": ["customer"]}, "member_ids"),
        ({"name": "X", "lead_id": "customer"}, "lead_id"),
        ({"name": "X", "lead_id": "collaborator"}, "lead_id"),
    ],
)
def test_team_validation(manager_api: Api, payload: dict[str, Any], field: str) -> None:
    factories.team(name="Billing")
    people = {"customer": factories.customer_user().pk, "collaborator": factories.user(Role.COLLABORATOR).pk}
    if payload.get("lead_id") in people:
        payload = {**payload, "lead_id": people[payload["lead_id"]]}
    if isinstance(payload.get("member_ids"), list) and payload["member_ids"] and payload["member_ids"][0] in people:
        payload = {**payload, "member_ids": [people[payload["member_ids"][0]]]}
    response = manager_api.post("/teams", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    assert Team.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "Other"}, "name"),
        ({"member_ids": None}, "member_ids"),
        ({"member_ids": [999_999]}, "member_ids"),
        ({"member_ids": ["customer"]}, "member_ids"),
        ({"lead_id": "customer"}, "lead_id"),
    ],
)
def test_team_update_validation(manager_api: Api, payload: dict[str, Any], field: str) -> None:
    agent = factories.user(Role.AGENT)
    factories.team(name="Other")
    team = factories.team(name="Mine", members=[agent])
    customer = factories.customer_user().pk
    payload = {k: ([customer] if v == ["customer"] else customer if v == "customer" else v) for k, v in payload.items()}
    response = manager_api.patch(f"/teams/{team.pk}", payload)
    assert response.status_code == 422, response.content
    assert set(errors_of(response)) == {field}
    team.refresh_from_db()
    assert team.name == "Mine"
    assert list(team.members.all()) == [agent]


def test_list_teams(agent_api: Api) -> None:
    for name in ("A", "B", "C"):
        factories.team(name=name)
    first = agent_api.get("/teams", {"limit": 2}).json()
    rest = agent_api.get("/teams", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["name"] for t in first["items"] + rest["items"]] == ["A", "B", "C"]
    assert rest["next_cursor"] is None
    assert agent_api.get("/teams/999999").status_code == 404
