"""The demo desk's people who sign in (admin, managers, agents, a collaborator, customer accounts)
and its teams, created through the account actions: they are few, and this is the path every
other account takes. Existing accounts and teams are reused, so a rerun adds nothing twice.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import Role, Team, TeamMembership, User
from deskpilot.customers import actions as customer_actions
from deskpilot.customers.models import Customer, Organization
from deskpilot.demo import vocabulary as vocab

DOMAIN = "demo.deskpilot.test"
# Shown on the sign-in hint of a demo instance; never use demo data in production.
PASSWORD = "deskpilot-demo"  # noqa: S105 - a published demo password, not a secret
MIN_AGENTS, MAX_AGENTS = 12, 30
_ROLE_ORDER: dict[str, int] = {Role.ADMIN: 0, Role.MANAGER: 1, Role.AGENT: 2, Role.COLLABORATOR: 3, Role.CUSTOMER: 4}


def agent_count(tickets: int) -> int:
    """A dozen agents for a small demo, up to thirty for a million tickets."""
    return max(MIN_AGENTS, min(MAX_AGENTS, MIN_AGENTS + tickets // 55_000))


@dataclass(frozen=True)
class Account:
    role: str
    email: str
    name: str


def accounts(agents: int) -> list[Account]:
    result = [Account(Role.ADMIN, f"admin@{DOMAIN}", vocab.ADMIN_NAME)]
    result += [
        Account(Role.MANAGER, f"manager{'' if i == 0 else i + 1}@{DOMAIN}", name)
        for i, name in enumerate(vocab.MANAGER_NAMES)
    ]
    result += [Account(Role.AGENT, f"agent{i + 1}@{DOMAIN}", vocab.AGENT_NAMES[i]) for i in range(agents)]
    result.append(Account(Role.COLLABORATOR, f"collaborator@{DOMAIN}", vocab.COLLABORATOR_NAME))
    result += [
        Account(Role.CUSTOMER, f"customer{i + 1}@{DOMAIN}", name) for i, name in enumerate(vocab.CUSTOMER_ACCOUNT_NAMES)
    ]
    return result


def _sort_key(email: str) -> tuple[str, int]:
    local = email.split("@", 1)[0]
    digits = "".join(ch for ch in local if ch.isdigit())
    return local.rstrip("0123456789"), int(digits or 0)


def signins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the demo accounts in the database, admin first; empty when
    there are none."""
    rows = User.objects.filter(email__endswith=f"@{DOMAIN}", is_active=True).values_list("role", "email")
    ordered = sorted(rows, key=lambda r: (_ROLE_ORDER.get(r[0], 9), _sort_key(r[1])))
    return [(role, email, PASSWORD) for role, email in ordered]


@dataclass
class Staff:
    users: dict[str, User]  # by email
    teams: dict[str, Team]  # by TeamSpec.key
    customer_accounts: list[Customer]


def _home_teams(agents: int) -> list[str]:
    """Each agent's home team, in agent order: team sizes follow the shares, at least two each."""
    specs = vocab.TEAMS
    counts = {s.key: max(2, round(s.share * agents)) for s in specs}
    while sum(counts.values()) > agents:
        largest = max(counts, key=lambda k: counts[k])
        counts[largest] -= 1
    while sum(counts.values()) < agents:
        counts["general"] += 1
    # Interleave, so agent1..agentN are spread over the teams rather than filling one first.
    order: list[str] = []
    remaining = dict(counts)
    while len(order) < agents:
        for spec in specs:
            if remaining[spec.key]:
                order.append(spec.key)
                remaining[spec.key] -= 1
    return order


def ensure_staff(*, agents: int, since: datetime.datetime, organization: Organization | None) -> Staff:
    """Create whatever demo accounts and teams are missing. New accounts share one password hash
    (hashing is slow by design, and they all have the same demo password) and are backdated to
    ``since`` so the desk looks like it existed before its tickets."""
    wanted = accounts(agents)
    with transaction.atomic():
        existing = {u.email: u for u in User.objects.filter(email__in=[a.email for a in wanted])}
        created: list[int] = []
        for account in wanted:
            if account.email not in existing:
                user = account_actions.create_user(
                    actor=None, email=account.email, name=account.name, role=account.role, password=None
                )
                existing[account.email] = user
                created.append(user.pk)
        if created:
            User.objects.filter(pk__in=created).update(password=make_password(PASSWORD), created_at=since)
            Customer.objects.filter(user_id__in=created).update(created_at=since)
            for user in User.objects.filter(pk__in=created):
                existing[user.email] = user

        # Customer accounts: the first two belong to a real organization, so the portal shows
        # shared tickets; the third writes for themself.
        customer_accounts = []
        for i, account in enumerate(a for a in wanted if a.role == Role.CUSTOMER):
            customer = Customer.objects.get(user=existing[account.email])
            if i < 2 and organization is not None and customer.organization_id is None:
                customer_actions.update_customer(customer, organization=organization)
            customer_accounts.append(customer)

        teams = _ensure_teams(wanted, existing, agents, since)
    return Staff(users=existing, teams=teams, customer_accounts=customer_accounts)


def _ensure_teams(
    wanted: list[Account], users: dict[str, User], agents: int, since: datetime.datetime
) -> dict[str, Team]:
    agent_users = [users[a.email] for a in wanted if a.role == Role.AGENT]
    managers = [users[a.email] for a in wanted if a.role == Role.MANAGER]
    home = _home_teams(agents)
    members: dict[str, list[User]] = {spec.key: [] for spec in vocab.TEAMS}
    for i, (user, key) in enumerate(zip(agent_users, home, strict=True)):
        members[key].append(user)
        # Every fourth agent also covers first line, as real desks do at peak times.
        if i % 4 == 3 and key != "general":
            members["general"].append(user)
    teams: dict[str, Team] = {}
    for index, spec in enumerate(vocab.TEAMS):
        lead = managers[index % len(managers)] if managers else None
        team = Team.objects.filter(name__iexact=spec.name).first()
        if team is None:
            team = account_actions.create_team(
                actor=None, name=spec.name, description=spec.description, lead=lead, members=members[spec.key]
            )
            TeamMembership.objects.filter(team=team).update(joined_at=since)
            Team.objects.filter(pk=team.pk).update(created_at=since)
        else:
            current = list(team.members.all())
            missing = [u for u in members[spec.key] if u not in current]
            if missing:
                account_actions.update_team(team, actor=None, members=current + missing)
        teams[spec.key] = team
    return teams
