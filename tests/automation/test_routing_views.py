"""Routing pages (automation.routing_views): the availability control in the header, and the
managers' team routing page with its validation."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import Availability, Role, RoutingMode, Team, User
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def stored(user: User) -> User:
    return User.objects.get(pk=user.pk)


# --- availability --------------------------------------------------------------------------------


def test_agents_see_their_availability_in_the_header() -> None:
    agent = factories.user(Role.AGENT)
    account_actions.set_availability(agent, Availability.AWAY, actor=agent)
    body = client_for(agent).get(reverse("tickets:inbox")).content.decode()
    assert 'action="/availability"' in body
    assert re.search(r'<option value="away" selected>', body)


@pytest.mark.parametrize("role", [Role.COLLABORATOR])
def test_people_who_take_no_tickets_have_no_availability_control(role: str) -> None:
    body = client_for(factories.user(role)).get(reverse("tickets:inbox")).content.decode()
    assert 'action="/availability"' not in body


def test_without_javascript_the_form_sets_it_and_returns_to_the_page() -> None:
    agent = factories.user(Role.AGENT)
    response = client_for(agent).post(reverse("routing:availability"), {"availability": "online", "next": "/search"})
    assert response.status_code == 302
    assert response["Location"] == "/search"
    assert stored(agent).availability == Availability.ONLINE


def test_a_next_address_elsewhere_is_not_followed() -> None:
    agent = factories.user(Role.AGENT)
    response = client_for(agent).post(
        reverse("routing:availability"), {"availability": "away", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("tickets:inbox")


def test_htmx_swaps_the_control_in_place() -> None:
    agent = factories.user(Role.AGENT)
    response = client_for(agent).post(reverse("routing:availability"), {"availability": "online"}, headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith("<form")
    assert '<option value="online" selected>' in body
    assert stored(agent).availability == Availability.ONLINE


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_an_unknown_availability_is_refused_with_422(headers: dict[str, str]) -> None:
    agent = factories.user(Role.AGENT)
    response = client_for(agent).post(reverse("routing:availability"), {"availability": "busy"}, headers=headers)
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert stored(agent).availability == Availability.OFFLINE


# --- managers' pages -----------------------------------------------------------------------------


def routed_team() -> tuple[Team, User]:
    agent = factories.user(Role.AGENT, name="Ada Agent")
    return factories.team(name="Support", members=[agent]), agent


def test_the_teams_page_lists_modes_online_agents_and_queues() -> None:
    team, agent = routed_team()
    factories.ticket(routed_team=team)
    account_actions.set_availability(agent, Availability.AWAY, actor=agent)
    body = client_for(factories.user(Role.MANAGER)).get(reverse("routing:teams")).content.decode()
    row = re.search(rf'<tr id="team-{team.pk}">(.*?)</tr>', body, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[1:] == ["Manual (nobody is assigned automatically)", "1", "0", "1"]


def test_a_manager_sets_the_team_routing() -> None:
    team, _ = routed_team()
    data = {
        "mode": RoutingMode.LEAST_LOADED,
        "weight_low": "1",
        "weight_normal": "2",
        "weight_high": "3",
        "weight_urgent": "8",
        "skills_fallback": "on",
    }
    response = client_for(factories.user(Role.MANAGER)).post(reverse("routing:team", args=[team.pk]), data)
    assert response.status_code == 302
    fresh = Team.objects.get(pk=team.pk)
    assert (fresh.routing_mode, fresh.routing_weights, fresh.routing_skills_fallback) == (
        RoutingMode.LEAST_LOADED,
        {"low": 1, "normal": 2, "high": 3, "urgent": 8},
        True,
    )
    page = client_for(factories.user(Role.MANAGER)).get(reverse("routing:team", args=[team.pk])).content.decode()
    assert 'value="8"' in page
    assert re.search(r'value="least_loaded"[^>]*checked', page)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"weight_urgent": "0"}, "weight_urgent", "greater than or equal to 1"),
        ({"weight_high": "many"}, "weight_high", "Enter a whole number"),
        ({"mode": "lottery"}, "mode", "Select a valid choice"),
    ],
)
def test_team_mistakes_are_explained_next_to_the_field(change: dict[str, str], field: str, message: str) -> None:
    team, _ = routed_team()
    data = {"mode": "round_robin", "weight_low": "1", "weight_normal": "1", "weight_high": "2", "weight_urgent": "3"}
    response = client_for(factories.user(Role.ADMIN)).post(reverse("routing:team", args=[team.pk]), {**data, **change})
    assert response.status_code == 422
    body = response.content.decode()
    error = re.search(rf'<p class="error" id="id_{field}_error" role="alert">(.*?)</p>', body)
    assert error is not None
    assert message in error.group(1)
    assert Team.objects.get(pk=team.pk).routing_mode == RoutingMode.MANUAL


def test_a_manager_sets_a_members_capacity_skills_and_languages() -> None:
    team, agent = routed_team()
    data = {
        f"member-{agent.pk}-capacity": "6",
        f"member-{agent.pk}-skills": "Billing, api",
        f"member-{agent.pk}-languages": "de, en",
    }
    response = client_for(factories.user(Role.MANAGER)).post(reverse("routing:member", args=[team.pk, agent.pk]), data)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#member-{agent.pk}")
    fresh = stored(agent)
    assert (fresh.capacity, fresh.skills, fresh.languages) == (6, ["api", "billing"], ["de", "en"])


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
        ({"languages": "english!"}, "languages", "is not a language code"),
    ],
)
def test_member_mistakes_are_explained_next_to_the_field(change: dict[str, str], field: str, message: str) -> None:
    team, agent = routed_team()
    data = {f"member-{agent.pk}-{name}": value for name, value in change.items()}
    response = client_for(factories.user(Role.MANAGER)).post(reverse("routing:member", args=[team.pk, agent.pk]), data)
    assert response.status_code == 422
    body = response.content.decode()
    error = re.search(rf'<p class="error" id="id_member-{agent.pk}-{field}_error" role="alert">(.*?)</p>', body)
    assert error is not None
    assert message in error.group(1)
    fresh = stored(agent)
    assert (fresh.capacity, fresh.languages) == (None, [])


def test_someone_outside_the_team_is_not_found_there() -> None:
    team, _ = routed_team()
    outsider = factories.user(Role.AGENT)
    response = client_for(factories.user(Role.MANAGER)).post(
        reverse("routing:member", args=[team.pk, outsider.pk]), {f"member-{outsider.pk}-capacity": "3"}
    )
    assert response.status_code == 404
    assert stored(outsider).capacity is None


def test_an_unknown_team_is_not_found() -> None:
    assert client_for(factories.user(Role.MANAGER)).get(reverse("routing:team", args=[999999])).status_code == 404
