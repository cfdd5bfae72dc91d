"""The page permission matrix's vocabulary: the world every route is tried in, the roles, the
outcomes, and the usual expectations. ``tests/test_page_permissions.py`` runs the matrix; an app
declares its own pages in ``tests/<app>/page_routes*.py`` (``PAGES`` and ``FORMS`` dicts of
``Route``), which the matrix collects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deskpilot.accounts.models import Role, User
from deskpilot.tickets import actions
from deskpilot.tickets.models import SavedView, Ticket, Via
from tests import factories

ROLES = ("anonymous", "requester", "other_customer", "follower", "collaborator", "agent", "manager", "admin")
STAFF = ("follower", "collaborator", "agent", "manager", "admin")


@dataclass
class World:
    users: dict[str, User | None]
    ticket: Ticket
    saved: SavedView


@pytest.fixture
def world() -> World:
    agent = factories.user(Role.AGENT)
    requester = factories.customer_user()
    follower = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket(requester=requester.customer, subject="Matrix ticket")
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [follower]})
    saved = SavedView.objects.create(owner=agent, name="Mine", filters={"view": "all-open"}, sort="-id")
    users: dict[str, User | None] = {
        "anonymous": None,
        "requester": requester,
        "other_customer": factories.customer_user(),
        "follower": follower,
        "collaborator": factories.user(Role.COLLABORATOR),
        "agent": agent,
        "manager": factories.user(Role.MANAGER),
        "admin": factories.user(Role.ADMIN),
    }
    return World(users=users, ticket=ticket, saved=saved)


# What each role gets. "signin": a redirect to the sign-in page that comes back here.
OK, SIGNIN, HIDDEN, FORBIDDEN, REDIRECT, GONE = "ok", "signin", "404", "403", "redirect", "410"


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def staff_page(*, collaborators: str = OK, follower: str | None = None) -> dict[str, str]:
    expected = {"anonymous": SIGNIN, "requester": HIDDEN, "other_customer": HIDDEN}
    expected.update({"follower": follower or collaborators, "collaborator": collaborators})
    expected.update({"agent": OK, "manager": OK, "admin": OK})
    return expected


def customer_page(*, other_customer: str = OK) -> dict[str, str]:
    expected = dict.fromkeys(STAFF, HIDDEN)
    expected.update({"anonymous": SIGNIN, "requester": OK, "other_customer": other_customer})
    return expected


@dataclass
class Route:
    url: Callable[[World], str]
    expected: dict[str, str]
    # For forms: what a refused submission must leave unchanged, besides tickets, messages and
    # saved views (e.g. the count and update times of the rows the form edits).
    state: Callable[[], object] | None = None


def manager_page() -> dict[str, str]:
    """Managers and admins only; agents meet a 404 like everyone else who may not know it exists."""
    return {**staff_page(collaborators=HIDDEN), "agent": HIDDEN}


# Forms (POST only). Allowed roles must not be refused (their empty form may be invalid: 422 or
# a redirect with a message); refused roles must change nothing.
AGENT_FORM = {
    **dict.fromkeys(("requester", "other_customer"), HIDDEN),
    "anonymous": SIGNIN,
    "follower": FORBIDDEN,
    "collaborator": HIDDEN,
    "agent": OK,
    "manager": OK,
    "admin": OK,
}
