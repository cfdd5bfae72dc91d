"""Test data built through the same actions the product uses, so tests see real states."""

from __future__ import annotations

import itertools
from typing import Any

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import ApiToken, Role, Team, TokenScope, User
from deskpilot.customers import actions as customer_actions
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Ticket, Via

_seq = itertools.count(1)
PASSWORD = "a-long-test-password"


def user(role: str = Role.AGENT, *, email: str | None = None, name: str | None = None, **kwargs: Any) -> User:
    n = next(_seq)
    return account_actions.create_user(
        actor=None,
        email=email or f"{role}{n}@example.test",
        name=name or f"{role.title()} {n}",
        role=role,
        password=PASSWORD,
        **kwargs,
    )


def customer_user(*, organization: Organization | None = None, email: str | None = None) -> User:
    account = user(Role.CUSTOMER, email=email)
    if organization is not None:
        customer = account.customer
        customer.organization = organization
        customer.save()
    return account


def customer(*, email: str | None = None, name: str = "", organization: Organization | None = None) -> Customer:
    found = customer_actions.find_or_create_customer(email or f"customer{next(_seq)}@example.test", name)
    if organization is not None:
        found.organization = organization
        found.save()
    return found


def organization(*, name: str | None = None, **kwargs: Any) -> Organization:
    return customer_actions.create_organization(name=name or f"Organization {next(_seq)}", **kwargs)


def team(*, name: str | None = None, members: list[User] | None = None, lead: User | None = None) -> Team:
    return account_actions.create_team(actor=None, name=name or f"Team {next(_seq)}", members=members or [], lead=lead)


def ticket(*, requester: Customer | None = None, actor: Any = None, **kwargs: Any) -> Ticket:
    requester = requester or customer()
    kwargs.setdefault("subject", f"Question {next(_seq)}")
    kwargs.setdefault("body_text", "Something does not work.")
    return ticket_actions.create_ticket(
        actor=actor or requester, via=kwargs.pop("via", Via.API), requester=requester, **kwargs
    )


def token(owner: User, scope: str = TokenScope.READ_WRITE) -> str:
    _, raw = ApiToken.issue(owner, scope=scope)
    return raw
