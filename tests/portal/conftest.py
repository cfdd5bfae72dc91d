"""Fixtures of the portal page tests: people in every role the permission matrix names."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deskpilot.accounts.models import Role, User
from deskpilot.customers.models import Organization
from tests import factories
from tests.pages import client_for

__all__ = ["client_for"]


@dataclass
class People:
    customer: User  # the requester of the tickets under test
    other: User  # another customer, unrelated
    colleague: User  # same organization as ``customer``
    organization: Organization
    agent: User
    manager: User
    admin: User
    collaborator: User


@pytest.fixture
def people(db: None) -> People:
    organization = factories.organization(name="Northwind")
    return People(
        customer=factories.customer_user(organization=organization, email="dana@northwind.test"),
        other=factories.customer_user(email="mallory@elsewhere.test"),
        colleague=factories.customer_user(organization=organization, email="fox@northwind.test"),
        organization=organization,
        agent=factories.user(Role.AGENT, name="Maya Chen"),
        manager=factories.user(Role.MANAGER),
        admin=factories.user(Role.ADMIN),
        collaborator=factories.user(Role.COLLABORATOR),
    )


def share(organization: Organization, on: bool = True) -> None:
    organization.shared_tickets = on
    organization.save()
