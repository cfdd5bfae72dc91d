"""Changes to users, teams and API tokens."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from deskpilot.accounts.models import (
    AGENT_ROLES,
    ApiToken,
    Availability,
    Role,
    RoutingMode,
    SignInLink,
    Team,
    TeamMembership,
    TokenScope,
    User,
    hash_token,
)
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.customers.actions import (
    clean_email,
    clean_language,
    clean_name,
    clean_time_zone,
    find_or_create_customer,
)
from deskpilot.customers.models import Customer

TOKEN_NAME_MAX = 100


def _clean_role(role: Any) -> str:
    allowed = [r.value for r in Role]
    if role not in allowed:
        raise InvalidInput("role", f"{role!r} is not one of: {', '.join(allowed)}")
    return str(role)


def _clean_password(password: str, user: User | None = None) -> str:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise InvalidInput("password", " ".join(error.messages)) from None
    return password


def require_can_manage_users(actor: User | None, role: str) -> None:
    """Admins manage everyone; managers manage everyone but admins. None is the command line,
    run by whoever operates the server."""
    if actor is None:
        return
    if actor.role == Role.ADMIN:
        return
    if actor.role == Role.MANAGER and role != Role.ADMIN:
        return
    raise NotPermitted("only admins (and managers, for non-admin accounts) can manage users")


def create_user(
    *,
    actor: User | None,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    time_zone: str = "UTC",
    language: str = "en",
) -> User:
    """Create a sign-in account. A customer account is linked to the customer who owns the email
    address (created if new), so their tickets are theirs from the first sign-in."""
    role = _clean_role(role)
    require_can_manage_users(actor, role)
    address = clean_email(email).lower()
    if User.objects.filter(email__iexact=address).exists():
        raise InvalidInput("email", f"a user with {address} already exists")
    user_name = clean_name(name)
    if password is not None:
        _clean_password(password, User(email=address, name=user_name))
    with transaction.atomic():
        user = User.objects.create_user(
            address,
            password,
            name=user_name,
            role=role,
            time_zone=clean_time_zone(time_zone),
            language=clean_language(language),
        )
        if role == Role.CUSTOMER:
            customer = find_or_create_customer(address, user_name)
            if customer.user_id and customer.user_id != user.pk:
                raise InvalidInput("email", "this customer already has an account")
            customer.user = user
            customer.save(update_fields=["user"])
    return user


def update_user(user: User, *, actor: User | None, **changes: Any) -> User:
    allowed = {"name", "role", "time_zone", "language", "is_active", "password"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    require_can_manage_users(actor, user.role)
    if "role" in changes:
        new_role = _clean_role(changes["role"])
        require_can_manage_users(actor, new_role)
        if (user.role == Role.CUSTOMER) != (new_role == Role.CUSTOMER):
            raise InvalidInput("role", "a customer account cannot become a staff account or the reverse")
        if actor is not None and actor.pk == user.pk and new_role != user.role:
            raise InvalidInput("role", "you cannot change your own role")
        user.role = new_role
    if "name" in changes:
        user.name = clean_name(changes["name"])
    if "time_zone" in changes:
        user.time_zone = clean_time_zone(changes["time_zone"])
    if "language" in changes:
        user.language = clean_language(changes["language"])
    if "is_active" in changes:
        if actor is not None and actor.pk == user.pk and not changes["is_active"]:
            raise InvalidInput("is_active", "you cannot deactivate yourself")
        user.is_active = bool(changes["is_active"])
    if "password" in changes:
        user.set_password(_clean_password(changes["password"], user))
    user.save()
    return user


def _require_team_manager(actor: User | None) -> None:
    if actor is not None and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise NotPermitted("only admins and managers can manage teams")


def _check_members(members: Iterable[User]) -> list[User]:
    result = list(members)
    for user in result:
        if user.role == Role.CUSTOMER:
            raise InvalidInput("members", f"{user.email} is a customer and cannot join a team")
    return result


def create_team(
    *, actor: User | None, name: str, description: str = "", lead: User | None = None, members: Iterable[User] = ()
) -> Team:
    _require_team_manager(actor)
    clean = clean_name(name)
    if Team.objects.filter(name__iexact=clean).exists():
        raise InvalidInput("name", f"a team called {clean!r} already exists")
    people = _check_members(members)
    if lead is not None:
        if lead.role not in (Role.ADMIN, Role.MANAGER, Role.AGENT):
            raise InvalidInput("lead", f"{lead.email} is not staff who can lead a team")
        if lead not in people:
            people.append(lead)
    with transaction.atomic():
        team = Team.objects.create(name=clean, description=description, lead=lead)
        TeamMembership.objects.bulk_create([TeamMembership(team=team, user=u) for u in people])
    return team


def update_team(team: Team, *, actor: User | None, **changes: Any) -> Team:
    _require_team_manager(actor)
    allowed = {"name", "description", "lead", "members"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    with transaction.atomic():
        if "name" in changes:
            clean = clean_name(changes["name"])
            if Team.objects.filter(name__iexact=clean).exclude(pk=team.pk).exists():
                raise InvalidInput("name", f"a team called {clean!r} already exists")
            team.name = clean
        if "description" in changes:
            team.description = str(changes["description"])
        members = _check_members(changes["members"]) if "members" in changes else list(team.members.all())
        if "lead" in changes:
            lead = changes["lead"]
            if lead is not None and lead.role not in (Role.ADMIN, Role.MANAGER, Role.AGENT):
                raise InvalidInput("lead", f"{lead.email} is not staff who can lead a team")
            team.lead = lead
        if team.lead is not None and team.lead not in members:
            members.append(team.lead)
        team.save()
        if "members" in changes or "lead" in changes:
            keep = {u.pk for u in members}
            TeamMembership.objects.filter(team=team).exclude(user_id__in=keep).delete()
            have = set(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
            TeamMembership.objects.bulk_create([TeamMembership(team=team, user=u) for u in members if u.pk not in have])
    return team


def issue_token(user: User, *, name: str = "", scope: str = TokenScope.READ_WRITE) -> tuple[ApiToken, str]:
    """A new API token for ``user``; the secret is returned once and never stored."""
    allowed = [s.value for s in TokenScope]
    if scope not in allowed:
        raise InvalidInput("scope", f"{scope!r} is not one of: {', '.join(allowed)}")
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput("name", f"must be at most {TOKEN_NAME_MAX} characters")
    if not user.is_active:
        raise InvalidInput("user", f"{user.email} is deactivated")
    return ApiToken.issue(user, name=name, scope=scope)


def revoke_token(token: ApiToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])


# --- one-time sign-in links ----------------------------------------------------------------------


def _account_for_link(address: str) -> User | None:
    """The account a link for ``address`` signs in to: an active user with that email, or a new
    customer account for a known customer without one. None when the address is unknown."""
    user = User.objects.filter(email__iexact=address).first()
    if user is not None:
        return user if user.is_active else None
    customer = Customer.objects.filter(emails__address__iexact=address).first()
    if customer is None or customer.user_id is not None:
        return None
    return create_user(actor=None, email=address, name=customer.name or address.split("@")[0], role=Role.CUSTOMER)


def send_signin_link(email: str, *, base_url: str | None = None) -> bool:
    """Email a one-time sign-in link to ``email`` when it belongs to an account or a customer.
    Returns whether a link was sent; callers must not tell the visitor (that would reveal who
    has an account). Earlier unused links of the address stop working."""
    address = clean_email(email).lower()
    known = User.objects.filter(email__iexact=address, is_active=True).exists() or (
        Customer.objects.filter(emails__address__iexact=address).exists()
    )
    if not known:
        return False
    now = timezone.now()
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        SignInLink.objects.filter(email=address, used_at__isnull=True).update(expires_at=now)
        SignInLink.objects.create(
            email=address,
            key_hash=hash_token(raw),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=settings.SIGNIN_LINK_MINUTES),
        )
    link = f"{(base_url or settings.BASE_URL).rstrip('/')}/signin/link/{raw}"
    send_mail(
        subject="Your Deskpilot sign-in link",
        message=(
            f"Use this link to sign in to Deskpilot:\n\n{link}\n\n"
            f"It works once, within {settings.SIGNIN_LINK_MINUTES} minutes. If you did not ask for it, "
            "ignore this email: nobody can sign in without the link."
        ),
        from_email=None,
        recipient_list=[address],
    )
    return True


def signin_link_account(raw: str) -> User | None:
    """The account a still-valid link signs in to, without using the link up (for the page that
    asks the visitor to confirm; mail scanners open links, so only the confirmation uses it)."""
    link = SignInLink.objects.filter(key_hash=hash_token(raw), used_at__isnull=True, expires_at__gt=timezone.now())
    found = link.first()
    if found is None:
        return None
    return User.objects.filter(email__iexact=found.email, is_active=True).first() or _placeholder(found.email)


def _placeholder(address: str) -> User | None:
    customer = Customer.objects.filter(emails__address__iexact=address, user__isnull=True).first()
    return None if customer is None else User(email=address, name=customer.name, role=Role.CUSTOMER)


def use_signin_link(raw: str) -> User | None:
    """Spend a link: the account it signs in to (created for a known customer without one), or
    None when the link is unknown, used or expired. A link works exactly once, even when two
    requests race (the update claims it)."""
    now = timezone.now()
    with transaction.atomic():
        link = SignInLink.objects.filter(key_hash=hash_token(raw)).first()
        if link is None:
            return None
        claimed = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
        if not claimed:
            return None
        return _account_for_link(link.email)


# --- routing: availability, agents' capacity and skills, teams' routing settings ---------------

CAPACITY_MAX = 1000
SKILLS_MAX = 50


def _route_queued_after_commit(team_ids: list[int]) -> None:
    """Queued tickets of these teams look for an agent once the change is committed (a job; the
    sweep every minute catches anything a lost job leaves behind)."""
    if not team_ids:
        return
    from deskpilot.automation import routing_tasks

    transaction.on_commit(lambda: routing_tasks.assign_queued(team_ids))


def set_availability(user: User, availability: Any, *, actor: User | None) -> User:
    """Set whether an agent takes tickets now (online, away, offline). Agents set their own;
    managers and admins anyone's; None is the system (sign-out). Becoming online assigns the
    queued tickets of the agent's teams."""
    if actor is not None and actor.pk != user.pk and actor.role not in (Role.ADMIN, Role.MANAGER):
        raise NotPermitted("only managers and admins can set someone else's availability")
    allowed = [a.value for a in Availability]
    if availability not in allowed:
        raise InvalidInput("availability", f"{availability!r} is not one of: {', '.join(allowed)}")
    if user.role not in AGENT_ROLES:
        raise InvalidInput("availability", f"{user.email} is not an agent and takes no tickets")
    if not user.is_active and availability != Availability.OFFLINE:
        raise InvalidInput("availability", f"{user.email} is deactivated")
    if user.availability == availability:
        return user
    was_online = user.availability == Availability.ONLINE
    user.availability = str(availability)
    user.availability_changed_at = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            availability=user.availability, availability_changed_at=user.availability_changed_at
        )
        if availability == Availability.ONLINE and not was_online:
            _route_queued_after_commit(list(Team.objects.filter(members=user).values_list("pk", flat=True)))
    return user


def _clean_capacity(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("capacity", "must be a whole number of tickets, or empty for no limit")
    if not 1 <= value <= CAPACITY_MAX:
        raise InvalidInput("capacity", f"must be between 1 and {CAPACITY_MAX} (empty: no limit)")
    return value


def _clean_skills(values: Any) -> list[str]:
    from deskpilot.tickets.actions import clean_tag

    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput("skills", "must be a list of tag names")
    try:
        skills = sorted({clean_tag(v) for v in values})
    except InvalidInput as error:
        raise InvalidInput("skills", next(iter(error.errors.values()))) from None
    if len(skills) > SKILLS_MAX:
        raise InvalidInput("skills", f"at most {SKILLS_MAX} skills")
    return skills


def _clean_languages(values: Any) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput("languages", "must be a list of language codes")
    return sorted({clean_language(str(v).strip(), "languages") for v in values})


def set_agent_routing(user: User, *, actor: User | None, **changes: Any) -> User:
    """Set an agent's routing profile: ``capacity`` (open work in normal-priority tickets; None
    for no limit), ``skills`` (tag names), ``languages`` (codes; empty: the account's language).
    Managers and admins only. More room or new skills may let queued tickets find them."""
    _require_team_manager(actor)
    unknown = set(changes) - {"capacity", "skills", "languages"}
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a routing setting"))
    if user.role not in AGENT_ROLES:
        raise InvalidInput("user", f"{user.email} is not an agent")
    # Everything checked before anything is set: a refusal leaves the caller's copy as it was.
    capacity = _clean_capacity(changes["capacity"]) if "capacity" in changes else user.capacity
    skills = _clean_skills(changes["skills"]) if "skills" in changes else user.skills
    languages = _clean_languages(changes["languages"]) if "languages" in changes else user.languages
    user.capacity, user.skills, user.languages = capacity, skills, languages
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(capacity=user.capacity, skills=user.skills, languages=user.languages)
        if user.availability == Availability.ONLINE:
            _route_queued_after_commit(list(Team.objects.filter(members=user).values_list("pk", flat=True)))
    return user


def _clean_weights(weights: Any) -> dict[str, int]:
    from deskpilot.automation.routing import PRIORITIES, WEIGHT_MAX

    if not isinstance(weights, dict):
        raise InvalidInput("weights", "must map priorities to weights")
    unknown = set(weights) - set(PRIORITIES)
    if unknown:
        raise InvalidInput("weights", f"{sorted(unknown)} are not priorities ({', '.join(PRIORITIES)})")
    clean: dict[str, int] = {}
    for priority, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= WEIGHT_MAX:
            raise InvalidInput(f"weights.{priority}", f"must be a whole number from 1 to {WEIGHT_MAX}")
        clean[priority] = weight
    return clean


def set_team_routing(team: Team, *, actor: User | None, **changes: Any) -> Team:
    """Set a team's routing: ``mode`` (RoutingMode), ``weights`` (priority -> weight of an open
    ticket; missing priorities keep the defaults) and ``skills_fallback`` (whether a ticket
    nobody available has the skills for goes to the closest match rather than waiting).
    Managers and admins only. Leaving manual mode assigns the tickets waiting in the queue."""
    _require_team_manager(actor)
    unknown = set(changes) - {"mode", "weights", "skills_fallback"}
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a routing setting"))
    mode = changes.get("mode", team.routing_mode)
    allowed = [m.value for m in RoutingMode]
    if mode not in allowed:
        raise InvalidInput("mode", f"{mode!r} is not one of: {', '.join(allowed)}")
    weights = _clean_weights(changes["weights"]) if "weights" in changes else team.routing_weights
    fallback = changes.get("skills_fallback", team.routing_skills_fallback)
    if not isinstance(fallback, bool):
        raise InvalidInput("skills_fallback", "must be true or false")
    team.routing_mode, team.routing_weights, team.routing_skills_fallback = str(mode), weights, fallback
    with transaction.atomic():
        Team.objects.filter(pk=team.pk).update(
            routing_mode=team.routing_mode,
            routing_weights=team.routing_weights,
            routing_skills_fallback=team.routing_skills_fallback,
        )
        if team.routing_mode != RoutingMode.MANUAL:
            _route_queued_after_commit([team.pk])
    return team
