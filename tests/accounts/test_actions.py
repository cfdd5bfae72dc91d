"""Users, teams and API tokens (accounts.actions)."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts import actions
from deskpilot.accounts.models import ApiToken, Role, Team, TeamMembership, User
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.customers.models import Customer
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


def new_user(actor: User | None, role: str = Role.AGENT, **kwargs: Any) -> User:
    arguments: dict[str, Any] = {"email": f"{role}-new@example.test", "name": "New Person", "role": role, **kwargs}
    return actions.create_user(actor=actor, **arguments)


# --- who manages whom --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor_role", "target_role", "allowed"),
    [
        (None, Role.ADMIN, True),  # the command line
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.CUSTOMER, True),
        (Role.MANAGER, Role.MANAGER, True),
        (Role.MANAGER, Role.AGENT, True),
        (Role.MANAGER, Role.COLLABORATOR, True),
        (Role.MANAGER, Role.CUSTOMER, True),
        (Role.MANAGER, Role.ADMIN, False),
        (Role.AGENT, Role.AGENT, False),
        (Role.AGENT, Role.CUSTOMER, False),
        (Role.COLLABORATOR, Role.COLLABORATOR, False),
        (Role.CUSTOMER, Role.CUSTOMER, False),
    ],
)
def test_who_may_create_whom(actor_role: str | None, target_role: str, allowed: bool) -> None:
    actor = None
    if actor_role == Role.CUSTOMER:
        actor = factories.customer_user()
    elif actor_role is not None:
        actor = factories.user(actor_role)
    before = User.objects.count()
    if allowed:
        assert new_user(actor, target_role).role == target_role
    else:
        with pytest.raises(NotPermitted):
            new_user(actor, target_role)
        assert User.objects.count() == before


def test_manager_cannot_change_an_admin_or_promote_to_admin() -> None:
    manager = factories.user(Role.MANAGER)
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    with pytest.raises(NotPermitted):
        actions.update_user(admin, actor=manager, name="Demoted")
    with pytest.raises(NotPermitted):
        actions.update_user(agent, actor=manager, role=Role.ADMIN)
    agent.refresh_from_db()
    assert agent.role == Role.AGENT
    assert actions.update_user(agent, actor=manager, role=Role.MANAGER).role == Role.MANAGER


# --- create_user -------------------------------------------------------------------------------


def test_create_user_normalises_and_hashes() -> None:
    user = new_user(None, email="  Mixed.Case@Example.TEST ", name=" Mixed   Case ", password=PASSWORD)
    assert (user.email, user.name) == ("mixed.case@example.test", "Mixed Case")
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password


def test_user_without_password_cannot_sign_in_with_one() -> None:
    user = new_user(None)
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "no-at-sign"}, "email"),
        ({"email": "TAKEN@example.test"}, "email"),
        ({"role": "superuser"}, "role"),
        ({"name": "  "}, "name"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"time_zone": "Middle/Earth"}, "time_zone"),
        ({"language": "english!"}, "language"),
    ],
)
def test_create_user_validation(kwargs: dict[str, Any], field: str) -> None:
    factories.user(Role.AGENT, email="taken@example.test")
    before = User.objects.count()
    with pytest.raises(InvalidInput) as error:
        new_user(None, **kwargs)
    assert set(error.value.errors) == {field}
    assert User.objects.count() == before


def test_customer_account_links_to_the_customer_record() -> None:
    existing = factories.customer(email="Client@Example.test")
    account = new_user(None, Role.CUSTOMER, email="client@example.test")
    existing.refresh_from_db()
    assert existing.user_id == account.pk
    fresh = new_user(None, Role.CUSTOMER, email="fresh@example.test")
    assert Customer.objects.get(user=fresh).primary_email == "fresh@example.test"


def test_a_customer_record_has_at_most_one_account() -> None:
    customer = factories.customer(email="one@example.test")
    customer.emails.create(address="two@example.test")
    new_user(None, Role.CUSTOMER, email="one@example.test")
    with pytest.raises(InvalidInput) as error:
        new_user(None, Role.CUSTOMER, email="two@example.test")
    assert set(error.value.errors) == {"email"}
    assert not User.objects.filter(email="two@example.test").exists()


# --- update_user -------------------------------------------------------------------------------


def test_update_user() -> None:
    admin = factories.user(Role.ADMIN)
    agent = factories.user(Role.AGENT)
    actions.update_user(
        agent, actor=admin, name="  New  Name ", time_zone="Asia/Kolkata", language="hi", password=PASSWORD
    )
    agent.refresh_from_db()
    assert (agent.name, agent.time_zone, agent.language) == ("New Name", "Asia/Kolkata", "hi")
    assert agent.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("target_role", "changes", "field"),
    [
        (Role.AGENT, {"role": Role.CUSTOMER}, "role"),
        (Role.CUSTOMER, {"role": Role.AGENT}, "role"),
        (Role.AGENT, {"role": "root"}, "role"),
        (Role.AGENT, {"email": "x@example.test"}, "email"),
        (Role.AGENT, {"password": "123"}, "password"),
        (Role.AGENT, {"time_zone": "UTC+2"}, "time_zone"),
    ],
)
def test_update_user_validation(target_role: str, changes: dict[str, Any], field: str) -> None:
    admin = factories.user(Role.ADMIN)
    target = factories.customer_user() if target_role == Role.CUSTOMER else factories.user(target_role)
    with pytest.raises(InvalidInput) as error:
        actions.update_user(target, actor=admin, **changes)
    assert set(error.value.errors) == {field}
    target.refresh_from_db()
    assert target.role == target_role


def test_nobody_changes_their_own_role_or_deactivates_themselves() -> None:
    admin = factories.user(Role.ADMIN)
    with pytest.raises(InvalidInput):
        actions.update_user(admin, actor=admin, role=Role.AGENT)
    with pytest.raises(InvalidInput):
        actions.update_user(admin, actor=admin, is_active=False)
    admin.refresh_from_db()
    assert (admin.role, admin.is_active) == (Role.ADMIN, True)
    # Another admin may.
    actions.update_user(admin, actor=factories.user(Role.ADMIN), is_active=False)
    assert User.objects.get(pk=admin.pk).is_active is False


def test_roles_decide_django_admin_access() -> None:
    admin, manager, agent = factories.user(Role.ADMIN), factories.user(Role.MANAGER), factories.user(Role.AGENT)
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert (manager.is_staff, manager.is_superuser) == (True, False)
    assert (agent.is_staff, agent.is_superuser) == (False, False)
    assert manager.has_perm("tickets.change_ticket")
    assert not manager.has_perm("accounts.delete_user")
    assert not agent.has_perm("tickets.change_ticket")
    admin.is_active = False
    assert (admin.is_staff, admin.is_superuser, admin.has_perm("x.y")) == (False, False, False)


# --- teams -------------------------------------------------------------------------------------


def test_create_team_with_lead_and_members() -> None:
    manager = factories.user(Role.MANAGER)
    lead, member = factories.user(Role.AGENT), factories.user(Role.COLLABORATOR)
    team = actions.create_team(actor=manager, name=" Tier  2 ", description="d", lead=lead, members=[member])
    assert team.name == "Tier 2"
    assert set(team.members.values_list("pk", flat=True)) == {lead.pk, member.pk}


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLABORATOR, Role.CUSTOMER])
def test_only_admins_and_managers_manage_teams(role: str) -> None:
    actor = factories.customer_user() if role == Role.CUSTOMER else factories.user(role)
    with pytest.raises(NotPermitted):
        actions.create_team(actor=actor, name="Mine")
    team = factories.team(name="Theirs")
    with pytest.raises(NotPermitted):
        actions.update_team(team, actor=actor, name="Mine")
    assert list(Team.objects.values_list("name", flat=True)) == ["Theirs"]


def test_team_validation() -> None:
    factories.team(name="Billing")
    customer_account = factories.customer_user()
    collaborator = factories.user(Role.COLLABORATOR)
    for kwargs, field in (
        ({"name": "BILLING"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "New", "members": [customer_account]}, "members"),
        ({"name": "New", "lead": collaborator}, "lead"),
        ({"name": "New", "lead": customer_account}, "lead"),
    ):
        with pytest.raises(InvalidInput) as error:
            actions.create_team(actor=None, **kwargs)
        assert set(error.value.errors) == {field}
    assert Team.objects.count() == 1


def test_update_team_members_and_lead() -> None:
    a, b, c = factories.user(Role.AGENT), factories.user(Role.AGENT), factories.user(Role.AGENT)
    team = factories.team(members=[a, b], lead=a)
    actions.update_team(team, actor=None, members=[c])
    # The lead stays a member of the team they lead.
    assert set(team.members.values_list("pk", flat=True)) == {a.pk, c.pk}
    actions.update_team(team, actor=None, lead=None, members=[b])
    assert set(team.members.values_list("pk", flat=True)) == {b.pk}
    actions.update_team(team, actor=None, lead=c)
    assert set(team.members.values_list("pk", flat=True)) == {b.pk, c.pk}
    assert TeamMembership.objects.filter(team=team).count() == 2
    with pytest.raises(InvalidInput) as error:
        actions.update_team(team, actor=None, colour="red")
    assert set(error.value.errors) == {"colour"}
    with pytest.raises(InvalidInput):
        actions.update_team(team, actor=None, members=[factories.customer_user()])
    assert set(team.members.values_list("pk", flat=True)) == {b.pk, c.pk}


# --- tokens ------------------------------------------------------------------------------------


def test_issue_and_revoke_token() -> None:
    agent = factories.user(Role.AGENT)
    token, raw = actions.issue_token(agent, name="ci", scope="read")
    assert (token.name, token.scope, token.can_write) == ("ci", "read", False)
    assert token.key_prefix == raw[:10]
    assert ApiToken.objects.filter(key_hash=token.key_hash).count() == 1
    actions.revoke_token(token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(InvalidInput) as error:
        actions.issue_token(agent, scope="everything")
    assert set(error.value.errors) == {"scope"}


def test_token_name_longer_than_the_column_is_refused() -> None:
    owner = factories.user()
    with pytest.raises(InvalidInput) as error:
        actions.issue_token(owner, name="x" * 101)
    assert set(error.value.errors) == {"name"}
