"""/api/v1/users, /api/v1/teams and /api/v1/me."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from deskpilot.accounts import actions
from deskpilot.accounts.models import AGENT_ROLES, Role, Team, User
from deskpilot.core.api_support import (
    BY_ID,
    DEFAULT_PAGE_SIZE,
    ErrorOut,
    StrictIn,
    api_field_names,
    keyset_page,
    request_user,
)
from deskpilot.core.errors import InvalidInput, NotFound, NotPermitted

user_router = Router(tags=["users"])
team_router = Router(tags=["teams"])
me_router = Router(tags=["users"])
ERRORS: dict[int, type[ErrorOut]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class UserOut(Schema):
    id: int
    email: str
    name: str
    role: str
    time_zone: str
    language: str
    is_active: bool
    team_ids: list[int]


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class UserIn(StrictIn):
    email: str = Field(max_length=254)
    name: str = Field(max_length=200)
    role: str
    password: str | None = None
    time_zone: str = "UTC"
    language: str = "en"


class UserUpdateIn(StrictIn):
    name: str | None = None
    role: str | None = None
    time_zone: str | None = None
    language: str | None = None
    is_active: bool | None = None
    password: str | None = None


class TeamOut(Schema):
    id: int
    name: str
    description: str
    lead_id: int | None
    member_ids: list[int]


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class TeamIn(StrictIn):
    name: str = Field(max_length=100)
    description: str = ""
    lead_id: int | None = None
    member_ids: list[int] = []


class TeamUpdateIn(StrictIn):
    name: str | None = None
    description: str | None = None
    lead_id: int | None = None
    member_ids: list[int] | None = None


def _require_agent(user: User) -> None:
    if user.role not in AGENT_ROLES:
        raise NotPermitted("only agents, managers and admins can see users and teams")


def _user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "time_zone": user.time_zone,
        "language": user.language,
        "is_active": user.is_active,
        "team_ids": sorted(t.pk for t in user.teams.all()),
    }


def _users(ids: list[int], field: str) -> list[User]:
    found = list(User.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {u.pk for u in found})
    if missing:
        raise InvalidInput(field, f"no users with ids {missing}")
    return found


@me_router.get("", response={200: UserOut, **ERRORS}, summary="The authenticated user")
def me(request: HttpRequest) -> dict[str, Any]:
    return _user_out(User.objects.prefetch_related("teams").get(pk=request_user(request).pk))


@user_router.get("", response={200: UserPage, **ERRORS}, summary="List staff and customer accounts")
def list_users(
    request: HttpRequest, role: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    _require_agent(request_user(request))
    qs = User.objects.prefetch_related("teams")
    if role is not None:
        if role not in Role.values:
            raise InvalidInput("role", f"{role!r} is not one of: {', '.join(Role.values)}")
        qs = qs.filter(role=role)
    rows, next_cursor = keyset_page(qs, ordering=BY_ID, cursor=cursor, limit=limit)
    return {"items": [_user_out(u) for u in rows], "next_cursor": next_cursor}


@user_router.get("/{user_id}", response={200: UserOut, **ERRORS}, summary="Get a user")
def get_user(request: HttpRequest, user_id: int) -> dict[str, Any]:
    _require_agent(request_user(request))
    user = User.objects.prefetch_related("teams").filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return _user_out(user)


@user_router.post("", response={201: UserOut, **ERRORS}, summary="Create a user (admins and managers)")
def create_user(request: HttpRequest, payload: UserIn) -> Status[dict[str, Any]]:
    user = actions.create_user(actor=request_user(request), **payload.model_dump())
    return Status(201, _user_out(User.objects.prefetch_related("teams").get(pk=user.pk)))


@user_router.patch("/{user_id}", response={200: UserOut, **ERRORS}, summary="Change a user (admins and managers)")
def update_user(request: HttpRequest, user_id: int, payload: UserUpdateIn) -> dict[str, Any]:
    actor = request_user(request)
    actions.require_can_manage_users(actor, Role.AGENT)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    given = payload.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None:
            raise InvalidInput(name, "must not be null")
    actions.update_user(user, actor=actor, **given)
    return _user_out(User.objects.prefetch_related("teams").get(pk=user.pk))


# Fix: the actions report "lead" and "members"; the API's fields are lead_id and member_ids.
_TEAM_FIELDS = {"lead": "lead_id", "members": "member_ids"}


def _team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "lead_id": team.lead_id,
        "member_ids": sorted(m.pk for m in team.members.all()),
    }


@team_router.get("", response={200: TeamPage, **ERRORS}, summary="List teams")
def list_teams(request: HttpRequest, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
    _require_agent(request_user(request))
    rows, next_cursor = keyset_page(
        Team.objects.prefetch_related("members"), ordering=BY_ID, cursor=cursor, limit=limit
    )
    return {"items": [_team_out(t) for t in rows], "next_cursor": next_cursor}


@team_router.get("/{team_id}", response={200: TeamOut, **ERRORS}, summary="Get a team")
def get_team(request: HttpRequest, team_id: int) -> dict[str, Any]:
    _require_agent(request_user(request))
    team = Team.objects.prefetch_related("members").filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return _team_out(team)


@team_router.post("", response={201: TeamOut, **ERRORS}, summary="Create a team (admins and managers)")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    lead = _users([payload.lead_id], "lead_id")[0] if payload.lead_id is not None else None
    with api_field_names(_TEAM_FIELDS):
        team = actions.create_team(
            actor=request_user(request),
            name=payload.name,
            description=payload.description,
            lead=lead,
            members=_users(payload.member_ids, "member_ids"),
        )
    return Status(201, _team_out(Team.objects.prefetch_related("members").get(pk=team.pk)))


@team_router.patch("/{team_id}", response={200: TeamOut, **ERRORS}, summary="Change a team (admins and managers)")
def update_team(request: HttpRequest, team_id: int, payload: TeamUpdateIn) -> dict[str, Any]:
    actor = request_user(request)
    if actor.role not in (Role.ADMIN, Role.MANAGER):
        raise NotPermitted("only admins and managers can manage teams")
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for name in ("name", "description"):
        if name in given:
            if given[name] is None:
                raise InvalidInput(name, "must not be null")
            changes[name] = given[name]
    if "lead_id" in given:
        changes["lead"] = _users([given["lead_id"]], "lead_id")[0] if given["lead_id"] is not None else None
    if "member_ids" in given:
        if given["member_ids"] is None:
            raise InvalidInput("member_ids", "must not be null")
        changes["members"] = _users(given["member_ids"], "member_ids")
    with api_field_names(_TEAM_FIELDS):
        actions.update_team(team, actor=actor, **changes)
    return _team_out(Team.objects.prefetch_related("members").get(pk=team.pk))
