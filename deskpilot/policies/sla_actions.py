"""Managing SLA policies, escalation policies and which calendar applies where.

Every function validates everything first and then writes in one transaction, so bad input raises
``InvalidInput`` naming the field (``targets.urgent.first_reply``, ``teams``, ``notify_emails``)
and nothing is half-written. A change that can move an SLA clock (a policy, its targets, a
calendar, a calendar assignment) enqueues ``policies.recompute_unsolved`` once the transaction
commits, so open tickets follow it.

Targets are saved row by row through the model (never a queryset update or bulk write): saving or
deleting a target bumps its policy's ``updated_at``, which the compiled-policy cache keys on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max

from deskpilot.accounts.models import Team
from deskpilot.core.errors import InvalidInput, NotFound
from deskpilot.customers.models import Organization, Tier
from deskpilot.policies import actions as calendar_actions
from deskpilot.policies import sla
from deskpilot.policies.models import (
    BusinessCalendar,
    DefaultCalendar,
    EscalationLevel,
    EscalationPolicy,
    OrganizationCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets.actions import clean_tag
from deskpilot.tickets.models import Channel, Priority, TicketType

logger = logging.getLogger(__name__)

NAME_MAX = 200
DESCRIPTION_MAX = 2000
EMAILS_MAX = 20
# The seven per-priority metrics of DOMAIN.md, in its order; group ownership is per team.
PRIORITY_METRICS: tuple[str, ...] = tuple(m for m in SlaMetric.values if m != SlaMetric.GROUP_OWNERSHIP)
PRIORITIES: tuple[str, ...] = tuple(Priority.values)
# Up to ~10 years: a bigger number is a typo, and the clock works in seconds.
MINUTES_MAX = 5_256_000


@contextmanager
def _name_taken(noun: str, name: str | None) -> Iterator[None]:
    """Two managers saving the same new name at once: the second hears it, not a server error."""
    try:
        yield
    except IntegrityError:
        raise InvalidInput("name", f"{noun} called {name!r} already exists") from None


def enqueue_recompute() -> None:
    """Once the current transaction commits: every unsolved ticket's clocks again. What is owed is
    written down in the same transaction (``RecomputeRequest``), so a lost job is queued again."""
    from deskpilot.policies.tasks import recompute_unsolved

    sla.request_recompute()

    def run() -> None:
        try:
            recompute_unsolved()
        except Exception:
            # The queue being down must not fail the manager's save: tickets pick the change up
            # at their next event, and the sweep keeps their wake-ups.
            logger.exception("could not enqueue the SLA recompute after a policy change")

    transaction.on_commit(run)


# --- cleaning ------------------------------------------------------------------------------------


def _choices_text(values: Iterable[str]) -> str:
    return ", ".join(values)


def _as_list(value: Any, field: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(field, "must be a list")
    return list(value)


def _clean_choice_list(value: Any, field: str, allowed: Sequence[str], noun: str) -> list[str]:
    cleaned: list[str] = []
    for item in _as_list(value, field):
        text = str(item).strip().lower() if isinstance(item, str) else item
        if text not in allowed:
            raise InvalidInput(field, f"{item!r} is not {noun} ({_choices_text(allowed)})")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _clean_id(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(field, f"{value!r} is not an id")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0:
        raise InvalidInput(field, f"{value!r} is not an id")
    return value


def _clean_id_list(value: Any, field: str, model: type[Team] | type[Organization], noun: str) -> list[int]:
    ids: list[int] = []
    for item in _as_list(value, field):
        pk = _clean_id(item, field)
        if pk not in ids:
            ids.append(pk)
    if ids:
        found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [pk for pk in ids if pk not in found]
        if missing:
            raise InvalidInput(field, f"there is no {noun} with id {missing[0]}")
    return sorted(ids)


def _clean_tags(value: Any, field: str = "tags") -> list[str]:
    tags: set[str] = set()
    for item in _as_list(value, field):
        try:
            tags.add(clean_tag(item))
        except InvalidInput as error:
            raise InvalidInput(field, next(iter(error.errors.values()))) from None
    return sorted(tags)


def _clean_ref(value: Any, field: str, model: Any, noun: str) -> Any:
    """An object by its id (or the object itself); None or "" for none."""
    if value is None or value == "":
        return None
    if isinstance(value, model):
        return value
    pk = _clean_id(value, field)
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput(field, f"there is no {noun} with id {pk}")
    return found


def _clean_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("on", "true", "1", 1):
        return True
    if value in ("", "off", "false", "0", 0, None):
        return False
    raise InvalidInput(field, f"{value!r} is not yes or no")


def _clean_name(value: Any, model: type[SlaPolicy] | type[EscalationPolicy], noun: str, pk: int | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("name", "must not be empty")
    name = " ".join(value.split())
    if len(name) > NAME_MAX:
        raise InvalidInput("name", f"must be at most {NAME_MAX} characters")
    others = model.objects.filter(name__iexact=name)
    if pk is not None:
        others = others.exclude(pk=pk)
    if others.exists():
        raise InvalidInput("name", f"{noun} called {name!r} already exists")
    return name


def _clean_minutes(value: Any, field: str) -> int | None:
    """Minutes of a target: a whole number above 0, or empty (None, "") for no target."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise InvalidInput(field, f"{text!r} must be a whole number of minutes above 0 (or empty for no target)")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(field, "must be a whole number of minutes above 0 (or empty for no target)")
    if value > MINUTES_MAX:
        raise InvalidInput(field, f"must be at most {MINUTES_MAX} minutes (about ten years)")
    return value


@dataclass(frozen=True)
class TargetSpec:
    metric: str
    priority: str
    team_id: int | None
    minutes: int
    business_hours: bool

    @property
    def key(self) -> tuple[str, str, int | None]:
        return (self.metric, self.priority, self.team_id)


def _cell(value: Any, field: str) -> tuple[int | None, bool]:
    """A cell of the matrix: minutes alone (business hours), or {"minutes", "business_hours"}."""
    if isinstance(value, Mapping):
        unknown = set(value) - {"minutes", "business_hours"}
        if unknown:
            raise InvalidInput(f"{field}.{sorted(unknown)[0]}", "is not a part of a target (minutes, business_hours)")
        minutes = _clean_minutes(value.get("minutes"), field)
        business = _clean_bool(value.get("business_hours", True), f"{field}.business_hours")
        return minutes, business
    return _clean_minutes(value, field), True


def _clean_targets(value: Any) -> list[TargetSpec]:
    """``{priority: {metric: cell}}``; an empty or missing cell is no target."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidInput("targets", "must map each priority to its metrics' targets")
    specs = []
    for priority, row in value.items():
        if priority not in PRIORITIES:
            raise InvalidInput(f"targets.{priority}", f"{priority!r} is not a priority ({_choices_text(PRIORITIES)})")
        if row is None:
            continue
        if not isinstance(row, Mapping):
            raise InvalidInput(f"targets.{priority}", "must map metrics to targets")
        for metric, cell in row.items():
            field = f"targets.{priority}.{metric}"
            if metric not in PRIORITY_METRICS:
                hint = " (group ownership is set per team)" if metric == SlaMetric.GROUP_OWNERSHIP else ""
                raise InvalidInput(field, f"{metric!r} is not a metric ({_choices_text(PRIORITY_METRICS)}){hint}")
            minutes, business = _cell(cell, field)
            if minutes is not None:
                specs.append(TargetSpec(metric, priority, None, minutes, business))
    return specs


def _clean_group_ownership(value: Any) -> list[TargetSpec]:
    """``{team id: cell}``: how long a team may own a ticket."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidInput("group_ownership", "must map team ids to targets")
    cells: dict[int, tuple[int | None, bool]] = {}
    for key, cell in value.items():
        team_id = _clean_id(key, "group_ownership")
        cells[team_id] = _cell(cell, f"group_ownership.{key}")
    wanted = [pk for pk, (minutes, _b) in cells.items() if minutes is not None]
    found = set(Team.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    specs = []
    for team_id, (minutes, business) in sorted(cells.items()):
        if minutes is None:
            continue
        if team_id not in found:
            raise InvalidInput(f"group_ownership.{team_id}", f"there is no team with id {team_id}")
        specs.append(TargetSpec(SlaMetric.GROUP_OWNERSHIP, "", team_id, minutes, business))
    return specs


def _clean_warning(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
        raise InvalidInput("warning_percent", "must be a whole number from 1 to 99 (or empty for no warnings)")
    return value


_POLICY_FIELDS = {
    "name",
    "description",
    "active",
    "priorities",
    "teams",
    "organizations",
    "tiers",
    "channels",
    "types",
    "tags",
    "calendar",
    "warning_percent",
    "escalation",
    "targets",
    "group_ownership",
}


def _clean_policy_values(values: Mapping[str, Any], pk: int | None) -> dict[str, Any]:
    unknown = set(values) - _POLICY_FIELDS
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field of an SLA policy"))
    cleaned: dict[str, Any] = {}
    if "name" in values:
        cleaned["name"] = _clean_name(values["name"], SlaPolicy, "an SLA policy", pk)
    if "description" in values:
        description = str(values["description"] or "").strip()
        if len(description) > DESCRIPTION_MAX:
            raise InvalidInput("description", f"must be at most {DESCRIPTION_MAX} characters")
        cleaned["description"] = description
    if "active" in values:
        cleaned["active"] = _clean_bool(values["active"], "active")
    choice_lists = (
        ("priorities", PRIORITIES, "a priority"),
        ("tiers", tuple(Tier.values), "a customer tier"),
        ("channels", tuple(Channel.values), "a channel"),
        ("types", tuple(TicketType.values), "a ticket type"),
    )
    for field, allowed, noun in choice_lists:
        if field in values:
            cleaned[field] = _clean_choice_list(values[field], field, allowed, noun)
    if "teams" in values:
        cleaned["teams"] = _clean_id_list(values["teams"], "teams", Team, "team")
    if "organizations" in values:
        cleaned["organizations"] = _clean_id_list(
            values["organizations"], "organizations", Organization, "organization"
        )
    if "tags" in values:
        cleaned["tags"] = _clean_tags(values["tags"])
    if "calendar" in values:
        cleaned["calendar"] = _clean_ref(values["calendar"], "calendar", BusinessCalendar, "calendar")
    if "warning_percent" in values:
        cleaned["warning_percent"] = _clean_warning(values["warning_percent"])
    if "escalation" in values:
        cleaned["escalation"] = _clean_ref(values["escalation"], "escalation", EscalationPolicy, "escalation policy")
    return cleaned


def _save_targets(policy: SlaPolicy, specs: list[TargetSpec], *, metrics_kind: str) -> None:
    """Make the policy's targets of one kind ("priority" or "team") exactly ``specs``, row by row
    through the model so each change bumps the policy's updated_at."""
    existing = {}
    for row in policy.targets.all():
        is_team = row.metric == SlaMetric.GROUP_OWNERSHIP
        if is_team != (metrics_kind == "team"):
            continue
        existing[(row.metric, row.priority, row.team_id)] = row
    wanted = {spec.key: spec for spec in specs}
    for key, row in existing.items():
        if key not in wanted:
            row.delete()
    for key, spec in wanted.items():
        current = existing.get(key)
        if current is None:
            SlaTarget(
                policy=policy,
                metric=spec.metric,
                priority=spec.priority,
                team_id=spec.team_id,
                minutes=spec.minutes,
                business_hours=spec.business_hours,
            ).save()
        elif (current.minutes, current.business_hours) != (spec.minutes, spec.business_hours):
            current.minutes, current.business_hours = spec.minutes, spec.business_hours
            current.save(update_fields=["minutes", "business_hours"])


# --- SLA policies --------------------------------------------------------------------------------


def create_sla_policy(
    *,
    name: str,
    targets: Mapping[str, Any] | None = None,
    group_ownership: Mapping[Any, Any] | None = None,
    **values: Any,
) -> SlaPolicy:
    """A new policy, last in the order. ``targets`` is the matrix ``{priority: {metric: cell}}``
    where a cell is minutes or ``{"minutes", "business_hours"}`` (empty: no target);
    ``group_ownership`` is ``{team id: cell}``. Conditions are lists (ids for teams and
    organizations, names for tags); ``calendar`` and ``escalation`` are ids or None."""
    cleaned = _clean_policy_values({"name": name, **values}, None)
    priority_specs = _clean_targets(targets)
    team_specs = _clean_group_ownership(group_ownership)
    with _name_taken("an SLA policy", cleaned["name"]), transaction.atomic():
        last = SlaPolicy.objects.aggregate(last=Max("position"))["last"]
        policy = SlaPolicy(**cleaned, position=0 if last is None else last + 1)
        policy.save()
        _save_targets(policy, priority_specs, metrics_kind="priority")
        _save_targets(policy, team_specs, metrics_kind="team")
        enqueue_recompute()
    policy.refresh_from_db(fields=["updated_at"])
    return policy


def update_sla_policy(policy: SlaPolicy, **changes: Any) -> SlaPolicy:
    """Change any of the fields ``create_sla_policy`` takes. ``targets`` and ``group_ownership``,
    when given, are the whole new matrix (cells left out or empty are removed)."""
    targets = changes.pop("targets", None)
    ownership = changes.pop("group_ownership", None)
    cleaned = _clean_policy_values(changes, policy.pk)
    priority_specs = _clean_targets(targets) if targets is not None else None
    team_specs = _clean_group_ownership(ownership) if ownership is not None else None
    with _name_taken("an SLA policy", cleaned.get("name")), transaction.atomic():
        locked = SlaPolicy.objects.select_for_update().filter(pk=policy.pk).first()
        if locked is None:
            raise NotFound("the SLA policy was deleted meanwhile")
        for field, value in cleaned.items():
            setattr(locked, field, value)
        locked.save()
        if priority_specs is not None:
            _save_targets(locked, priority_specs, metrics_kind="priority")
        if team_specs is not None:
            _save_targets(locked, team_specs, metrics_kind="team")
        enqueue_recompute()
        # Read back inside the transaction: a delete committed right after it must not turn a
        # saved change into an error.
        locked.refresh_from_db()
    return locked


def set_sla_policy_active(policy: SlaPolicy, active: bool) -> SlaPolicy:
    return update_sla_policy(policy, active=active)


def delete_sla_policy(policy: SlaPolicy) -> None:
    """Delete the policy and its targets; tickets it applied to are matched again."""
    with transaction.atomic():
        SlaPolicy.objects.filter(pk=policy.pk).delete()
        enqueue_recompute()


def reorder_sla_policies(order: Sequence[Any]) -> list[SlaPolicy]:
    """Put the policies in this order of ids (all of them, each once): the first match wins."""
    ids = [_clean_id(item, "order") for item in order]
    if len(set(ids)) != len(ids):
        raise InvalidInput("order", "lists a policy twice")
    with transaction.atomic():
        policies = {p.pk: p for p in SlaPolicy.objects.select_for_update().order_by("position", "id")}
        missing = [pk for pk in policies if pk not in ids]
        unknown = [pk for pk in ids if pk not in policies]
        if unknown:
            raise InvalidInput("order", f"there is no SLA policy with id {unknown[0]}")
        if missing:
            raise InvalidInput("order", f"must list every policy; {policies[missing[0]].name!r} is missing")
        ordered = [policies[pk] for pk in ids]
        changed = False
        for position, policy in enumerate(ordered):
            if policy.position != position:
                policy.position = position
                policy.save(update_fields=["position"])
                changed = True
        if changed:
            enqueue_recompute()
    return ordered


def move_sla_policy(policy: SlaPolicy, offset: int) -> list[SlaPolicy]:
    """Move one policy ``offset`` places (-1: up, one place earlier; +1: down)."""
    ids = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
    if policy.pk not in ids:
        raise InvalidInput("policy", "no longer exists")
    index = ids.index(policy.pk)
    target = max(0, min(len(ids) - 1, index + offset))
    ids.insert(target, ids.pop(index))
    return reorder_sla_policies(ids)


# --- escalation policies -------------------------------------------------------------------------


_ESCALATION_FIELDS = {
    "name",
    "on_warning",
    "on_breach",
    "metrics",
    "notify_assignee",
    "notify_team_lead",
    "notify_emails",
    "raise_priority",
    "move_to_team",
    "escalate_to",
    "add_lead_as_follower",
    "add_tag",
}
_ESCALATION_DEFAULTS: dict[str, Any] = {
    "on_warning": False,
    "on_breach": True,
    "metrics": [],
    "notify_assignee": True,
    "notify_team_lead": True,
    "notify_emails": [],
    "raise_priority": False,
    "move_to_team": None,
    "escalate_to": "",
    "add_lead_as_follower": False,
    "add_tag": "",
}


def _clean_emails(value: Any) -> list[str]:
    items = _as_list(value.replace("\n", ",").replace(";", ",") if isinstance(value, str) else value, "notify_emails")
    emails: list[str] = []
    for item in items:
        address = str(item).strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise InvalidInput("notify_emails", f"{str(item).strip()!r} is not an email address") from None
        if address not in emails:
            emails.append(address)
    if len(emails) > EMAILS_MAX:
        raise InvalidInput("notify_emails", f"at most {EMAILS_MAX} addresses (use a mailing list for more)")
    return emails


def _clean_escalation(values: Mapping[str, Any], pk: int | None) -> dict[str, Any]:
    unknown = set(values) - _ESCALATION_FIELDS
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field of an escalation policy"))
    cleaned: dict[str, Any] = {}
    if "name" in values:
        cleaned["name"] = _clean_name(values["name"], EscalationPolicy, "an escalation policy", pk)
    for field in ("on_warning", "on_breach", "notify_assignee", "notify_team_lead", "raise_priority"):
        if field in values:
            cleaned[field] = _clean_bool(values[field], field)
    if "add_lead_as_follower" in values:
        cleaned["add_lead_as_follower"] = _clean_bool(values["add_lead_as_follower"], "add_lead_as_follower")
    if "metrics" in values:
        cleaned["metrics"] = _clean_choice_list(values["metrics"], "metrics", tuple(SlaMetric.values), "a metric")
    if "notify_emails" in values:
        cleaned["notify_emails"] = _clean_emails(values["notify_emails"])
    if "move_to_team" in values:
        cleaned["move_to_team"] = _clean_ref(values["move_to_team"], "move_to_team", Team, "team")
    if "escalate_to" in values:
        level = values["escalate_to"] or ""
        if level not in ("", *EscalationLevel.values):
            raise InvalidInput(
                "escalate_to", f"{level!r} is not a level ({_choices_text(EscalationLevel.values)}, or empty)"
            )
        cleaned["escalate_to"] = level
    if "add_tag" in values:
        raw = values["add_tag"]
        cleaned["add_tag"] = _clean_tags([raw], "add_tag")[0] if raw not in (None, "") else ""
    return cleaned


def _check_escalation_whole(policy: EscalationPolicy) -> None:
    """Rules about the policy as a whole (it must act at some moment, and do something)."""
    if not policy.on_warning and not policy.on_breach:
        raise InvalidInput("on_breach", "choose when it acts: on warning, on breach, or both")
    does_something = (
        policy.notify_assignee
        or policy.notify_team_lead
        or policy.notify_emails
        or policy.raise_priority
        or policy.move_to_team_id is not None
        or policy.escalate_to
        or policy.add_lead_as_follower
        or policy.add_tag
    )
    if not does_something:
        raise InvalidInput(
            "actions", "choose at least one thing to do (notify, raise priority, move, escalate, follow or tag)"
        )


def create_escalation_policy(*, name: str, **values: Any) -> EscalationPolicy:
    """A new escalation policy; anything not given takes the model's default."""
    cleaned = _clean_escalation({"name": name, **values}, None)
    policy = EscalationPolicy(**{**_ESCALATION_DEFAULTS, **cleaned})
    _check_escalation_whole(policy)
    with _name_taken("an escalation policy", policy.name), transaction.atomic():
        policy.save()
    return policy


def update_escalation_policy(policy: EscalationPolicy, **changes: Any) -> EscalationPolicy:
    cleaned = _clean_escalation(changes, policy.pk)
    with _name_taken("an escalation policy", cleaned.get("name")), transaction.atomic():
        locked = EscalationPolicy.objects.select_for_update().filter(pk=policy.pk).first()
        if locked is None:
            raise NotFound("the escalation policy was deleted meanwhile")
        for field, value in cleaned.items():
            setattr(locked, field, value)
        _check_escalation_whole(locked)
        locked.save()
    return locked


def delete_escalation_policy(policy: EscalationPolicy) -> None:
    """Delete it; SLA policies that named it escalate no more (they are marked changed)."""
    with transaction.atomic():
        users = list(SlaPolicy.objects.filter(escalation_id=policy.pk))
        EscalationPolicy.objects.filter(pk=policy.pk).delete()
        for sla_policy in users:
            sla_policy.touch()


# --- calendars -----------------------------------------------------------------------------------


def create_calendar(**values: Any) -> BusinessCalendar:
    """``actions.create_calendar``; nothing uses a new calendar yet, so no clock moves."""
    return calendar_actions.create_calendar(**values)


def update_calendar(calendar: BusinessCalendar, **changes: Any) -> BusinessCalendar:
    """``actions.update_calendar``, and the clocks that count on it follow."""
    with transaction.atomic():
        updated = calendar_actions.update_calendar(calendar, **changes)
        enqueue_recompute()
    return updated


def delete_calendar(calendar: BusinessCalendar) -> None:
    """Delete it with its assignments; SLA policies that named it use the team's, organization's
    or default calendar from now on (they are marked changed)."""
    with transaction.atomic():
        users = list(SlaPolicy.objects.filter(calendar_id=calendar.pk))
        BusinessCalendar.objects.filter(pk=calendar.pk).delete()
        for sla_policy in users:
            sla_policy.touch()
        enqueue_recompute()


def _clean_assignments(value: Any, field: str, model: type[Team] | type[Organization], noun: str) -> dict[int, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(field, f"must map {noun} ids to calendar ids")
    cleaned: dict[int, Any] = {}
    for key, calendar_id in value.items():
        pk = _clean_id(key, field)
        cleaned[pk] = _clean_ref(calendar_id, f"{field}.{key}", BusinessCalendar, "calendar")
    found = set(model.objects.filter(pk__in=cleaned).values_list("pk", flat=True))
    for pk in cleaned:
        if pk not in found:
            raise InvalidInput(f"{field}.{pk}", f"there is no {noun} with id {pk}")
    return cleaned


_UNCHANGED = object()


def assign_calendars(
    *,
    default: Any = _UNCHANGED,
    teams: Mapping[Any, Any] | None = None,
    organizations: Mapping[Any, Any] | None = None,
) -> bool:
    """Set the default calendar (an id, or None for none) and teams' and organizations' calendars
    (``{id: calendar id or None}``; ids left out keep theirs). Returns whether anything changed."""
    set_default = default is not _UNCHANGED
    new_default: BusinessCalendar | None = (
        _clean_ref(default, "default", BusinessCalendar, "calendar") if set_default else None
    )
    team_cals = _clean_assignments(teams, "teams", Team, "team")
    org_cals = _clean_assignments(organizations, "organizations", Organization, "organization")
    changed = False
    with transaction.atomic():
        if set_default:
            current = DefaultCalendar.objects.select_for_update().first()
            if (current.calendar_id if current else None) != (new_default.pk if new_default else None):
                DefaultCalendar.objects.all().delete()
                if new_default is not None:
                    DefaultCalendar.objects.create(calendar=new_default)
                changed = True
        for link_model, key, wanted in (
            (TeamCalendar, "team_id", team_cals),
            (OrganizationCalendar, "organization_id", org_cals),
        ):
            if not wanted:
                continue
            current_links: dict[int, Any] = {
                getattr(link, key): link
                for link in link_model.objects.select_for_update().filter(**{f"{key}__in": list(wanted)})
            }
            for owner_id, calendar in wanted.items():
                link = current_links.get(owner_id)
                if calendar is None:
                    if link is not None:
                        link.delete()
                        changed = True
                elif link is None:
                    link_model.objects.create(**{key: owner_id, "calendar": calendar})
                    changed = True
                elif link.calendar_id != calendar.pk:
                    link.calendar = calendar
                    link.save(update_fields=["calendar"])
                    changed = True
        if changed:
            enqueue_recompute()
    return changed
