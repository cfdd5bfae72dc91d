"""The routing pages in the page permission matrix (tests/test_page_permissions.py)."""

from __future__ import annotations

from django.urls import reverse

from deskpilot.accounts.models import Team, User
from tests import factories
from tests.page_matrix import AGENT_FORM, HIDDEN, Route, World, manager_page


def _team(world: World) -> int:
    """A team of the matrix's agent."""
    agent = world.users["agent"]
    assert agent is not None
    return factories.team(members=[agent]).pk


def _member(world: World) -> str:
    agent = world.users["agent"]
    assert agent is not None
    return reverse("routing:member", args=[_team(world), agent.pk])


def _teams_state() -> object:
    return list(Team.objects.order_by("pk").values_list("routing_mode", "routing_weights", "routing_skills_fallback"))


def _users_state() -> object:
    return list(
        User.objects.order_by("pk").values_list(
            "availability", "availability_changed_at", "capacity", "skills", "languages"
        )
    )


PAGES: dict[str, Route] = {
    "routing:teams": Route(lambda w: reverse("routing:teams"), manager_page()),
    "routing:team": Route(lambda w: reverse("routing:team", args=[_team(w)]), manager_page()),
}

FORMS: dict[str, Route] = {
    "routing:availability": Route(
        lambda w: reverse("routing:availability"), {**AGENT_FORM, "follower": HIDDEN}, state=_users_state
    ),
    "routing:team": Route(lambda w: reverse("routing:team", args=[_team(w)]), manager_page(), state=_teams_state),
    "routing:member": Route(_member, manager_page(), state=_users_state),
}
