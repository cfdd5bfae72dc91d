"""Agents' availability, capacity and skills and teams' routing settings (accounts.actions):
who may set them, what is refused and why, and availability expiring at sign-out."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts import actions
from deskpilot.accounts.models import Availability, Role, RoutingMode, Team, User
from deskpilot.core.errors import InvalidInput, NotPermitted
from tests import factories

pytestmark = pytest.mark.django_db


def stored(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_an_agent_starts_offline_and_sets_their_own_availability() -> None:
    agent = factories.user(Role.AGENT)
    assert agent.availability == Availability.OFFLINE
    for availability in (Availability.ONLINE, Availability.AWAY, Availability.OFFLINE):
        actions.set_availability(agent, availability, actor=agent)
        fresh = stored(agent)
        assert fresh.availability == availability
        assert fresh.availability_changed_at is not None


def test_setting_the_same_availability_again_changes_nothing() -> None:
    agent = factories.user(Role.AGENT)
    actions.set_availability(agent, Availability.ONLINE, actor=agent)
    first = stored(agent).availability_changed_at
    actions.set_availability(agent, Availability.ONLINE, actor=agent)
    assert stored(agent).availability_changed_at == first


def test_managers_set_anyone_agents_only_themselves() -> None:
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    actions.set_availability(agent, Availability.ONLINE, actor=factories.user(Role.MANAGER))
    with pytest.raises(NotPermitted):
        actions.set_availability(agent, Availability.AWAY, actor=other)
    assert stored(agent).availability == Availability.ONLINE


@pytest.mark.parametrize("value", ["busy", "", None, "ONLINE"])
def test_an_unknown_availability_is_refused_naming_the_field(value: Any) -> None:
    agent = factories.user(Role.AGENT)
    with pytest.raises(InvalidInput) as error:
        actions.set_availability(agent, value, actor=agent)
    assert set(error.value.errors) == {"availability"}
    assert stored(agent).availability == Availability.OFFLINE


@pytest.mark.parametrize("role", [Role.COLLABORATOR, Role.CUSTOMER])
def test_only_agents_take_tickets(role: str) -> None:
    person = factories.user(role)
    with pytest.raises(InvalidInput, match="not an agent"):
        actions.set_availability(person, Availability.ONLINE, actor=None)


def test_a_deactivated_agent_cannot_be_online() -> None:
    agent = factories.user(Role.AGENT)
    actions.update_user(agent, actor=None, is_active=False)
    with pytest.raises(InvalidInput, match="deactivated"):
        actions.set_availability(agent, Availability.ONLINE, actor=None)


def test_availability_expires_at_sign_out(client: Any) -> None:
    agent = factories.user(Role.AGENT)
    actions.set_availability(agent, Availability.AWAY, actor=agent)
    client.force_login(agent)
    assert client.post("/signout").status_code == 302
    assert stored(agent).availability == Availability.OFFLINE


def test_signing_out_when_offline_or_anonymous_is_harmless(client: Any) -> None:
    assert client.post("/signout").status_code == 302
    customer = factories.customer_user()
    client.force_login(customer)
    assert client.post("/signout").status_code == 302
    assert stored(customer).availability == Availability.OFFLINE


# --- agents' routing profile ---------------------------------------------------------------------


def test_a_manager_sets_capacity_skills_and_languages_cleaned() -> None:
    agent = factories.user(Role.AGENT)
    actions.set_agent_routing(
        agent,
        actor=factories.user(Role.MANAGER),
        capacity=8,
        skills=["Billing issue", "api", "api"],
        languages=["de", "pt-BR"],
    )
    fresh = stored(agent)
    assert (fresh.capacity, fresh.skills, fresh.languages) == (8, ["api", "billing-issue"], ["de", "pt-BR"])
    actions.set_agent_routing(agent, actor=None, capacity=None)
    assert stored(agent).capacity is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 1001}, "capacity"),
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"skills": "billing"}, "skills"),
        ({"skills": ["  "]}, "skills"),
        ({"skills": ["x" * 81]}, "skills"),
        ({"skills": [f"s{i}" for i in range(51)]}, "skills"),
        ({"languages": ["english!"]}, "languages"),
        ({"languages": "en"}, "languages"),
        ({"mood": "good"}, "mood"),
    ],
)
def test_a_bad_routing_profile_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    agent = factories.user(Role.AGENT)
    with pytest.raises(InvalidInput) as error:
        actions.set_agent_routing(agent, actor=None, **changes)
    assert set(error.value.errors) == {field}
    fresh = stored(agent)
    assert (fresh.capacity, fresh.skills, fresh.languages) == (None, [], [])


def test_only_managers_set_routing_profiles_and_only_for_agents() -> None:
    agent = factories.user(Role.AGENT)
    with pytest.raises(NotPermitted):
        actions.set_agent_routing(agent, actor=agent, capacity=50)
    with pytest.raises(InvalidInput, match="not an agent"):
        actions.set_agent_routing(factories.user(Role.COLLABORATOR), actor=None, capacity=5)


# --- teams' routing settings ---------------------------------------------------------------------


def test_a_team_starts_manual_and_a_manager_sets_its_routing() -> None:
    team = factories.team()
    assert team.routing_mode == RoutingMode.MANUAL
    actions.set_team_routing(
        team,
        actor=factories.user(Role.ADMIN),
        mode=RoutingMode.SKILLS,
        weights={"urgent": 5, "low": 1},
        skills_fallback=False,
    )
    fresh = Team.objects.get(pk=team.pk)
    assert (fresh.routing_mode, fresh.routing_weights, fresh.routing_skills_fallback) == (
        RoutingMode.SKILLS,
        {"urgent": 5, "low": 1},
        False,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mode": "lottery"}, "mode"),
        ({"weights": {"urgent": 0}}, "weights.urgent"),
        ({"weights": {"high": 101}}, "weights.high"),
        ({"weights": {"high": "2"}}, "weights.high"),
        ({"weights": {"critical": 2}}, "weights"),
        ({"weights": [1, 2]}, "weights"),
        ({"skills_fallback": "yes"}, "skills_fallback"),
        ({"cursor": 3}, "cursor"),
    ],
)
def test_bad_team_routing_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    team = factories.team()
    with pytest.raises(InvalidInput) as error:
        actions.set_team_routing(team, actor=None, **changes)
    assert set(error.value.errors) == {field}
    fresh = Team.objects.get(pk=team.pk)
    assert (fresh.routing_mode, fresh.routing_weights) == (RoutingMode.MANUAL, {})


def test_agents_cannot_set_team_routing() -> None:
    with pytest.raises(NotPermitted):
        actions.set_team_routing(factories.team(), actor=factories.user(Role.AGENT), mode=RoutingMode.ROUND_ROBIN)
