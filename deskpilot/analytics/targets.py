"""KPI targets: what managers aim for, and whether a figure is on track, at risk or missed.

A target (``models.KpiTarget``) is set on one KPI of the catalogue (``analytics.kpis``) for the
whole desk, one team or one agent, with a threshold in the KPI's unit (seconds, 0-100 percent,
a count) and a direction: "at least" for KPIs where higher is better, "at most" where lower is
better. "Created" has no better side; the manager chooses the direction for it (a ceiling on
volume for capacity planning, or a floor for a sales-led desk), because refusing it would leave
no way to say "we plan for at most 500 tickets a week".

Status of a value (equality with the threshold passes):

- missed: it fails the threshold (below an "at least", above an "at most");
- at risk: it passes, but lies within ``at_risk_band`` of the threshold on the passing side,
  band edge included (at most 4 h with a 24 min band: at risk from 3 h 36 min up to 4 h);
  a band of 0 means the target is only ever on track or missed;
- on track: otherwise.

Which target applies: the agent's own, else the team's (when a team is given), else the
desk-wide one (``TargetBook.target_for``). Pages read every target in one query (``load``) and
judge as many figures as they show without another.

Changes go through ``create_target``, ``update_target`` and ``delete_target`` (pages and any
future API alike); they raise InvalidInput naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from django.db import IntegrityError, transaction

from deskpilot.accounts.models import AGENT_ROLES, Team, User
from deskpilot.analytics import formatting
from deskpilot.analytics.kpis import KPIS, Kpi, Unit
from deskpilot.analytics.models import KpiTarget, TargetDirection
from deskpilot.core.errors import InvalidInput

__all__ = [
    "TargetBook",
    "TargetState",
    "TargetStatus",
    "create_target",
    "default_band",
    "delete_target",
    "describe",
    "format_value",
    "judge",
    "load",
    "parse_amount",
    "risk_text",
    "rule_text",
    "scope_label",
    "update_target",
]

# Longest time target accepted: a year of hours. Longer is a typo (seconds typed as hours).
MAX_SECONDS = 365 * 24 * 3600
NOTES_MAX = 2000
# Default at-risk bands (editable per target): a tenth of a time or count threshold, two
# percentage points for rates; never wider than the room on the passing side.
DEFAULT_TIME_FRACTION = 0.1
DEFAULT_COUNT_FRACTION = 0.1
DEFAULT_PERCENT_POINTS = 2.0


class TargetState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MISSED = "missed"


_LABELS = {TargetState.ON_TRACK: "On track", TargetState.AT_RISK: "At risk", TargetState.MISSED: "Missed"}


@dataclass(frozen=True)
class TargetStatus:
    state: TargetState
    target: KpiTarget  # the model instance that applied
    value: float  # the figure judged

    @property
    def label(self) -> str:
        return _LABELS[self.state]

    @property
    def description(self) -> str:
        return describe(self.target)


# --- units: showing and reading amounts ---------------------------------------------------------


def _kpi(key: str, field: str = "kpi") -> Kpi:
    kpi = KPIS.get(key)
    if kpi is None:
        raise InvalidInput(field, f"{key!r} is not a KPI; choose one from the list")
    return kpi


def _number(value: float, decimals: int) -> str:
    """``95`` not ``95.0``; ``97.5``; at most ``decimals`` decimals."""
    text = f"{round(value, decimals):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_value(kpi_key: str, value: float) -> str:
    """A KPI value in human units: ``4 h``, ``95 %``, ``120``."""
    unit = _kpi(kpi_key).unit
    if unit == Unit.SECONDS:
        return formatting.exact_duration(value)
    if unit == Unit.PERCENT:
        return f"{_number(value, 2)} %"
    return _number(value, 2)


_TIME_UNITS = {
    "d": 86400, "day": 86400, "days": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
}  # fmt: skip
_NUMBER = r"\d+(?:[.,]\d+)?"
_TIME_PART = re.compile(rf"({_NUMBER})\s*([a-z]+)?")
_TIME_TEXT = re.compile(rf"(?:{_NUMBER}\s*[a-z]*\s*)+")
# The units a bare number may be given in (the form's unit picker).
BARE_UNITS = {"hours": 3600, "minutes": 60}


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _parse_seconds(text: str, field: str, bare_unit: str | None) -> float:
    cleaned = text.strip().lower()
    if not _TIME_TEXT.fullmatch(cleaned):
        raise InvalidInput(field, f"{text.strip()!r} is not a duration; write e.g. 4h, 90m or 1h 30m")
    parts = _TIME_PART.findall(cleaned)
    total = 0.0
    for number, unit in parts:
        if not unit:
            if len(parts) > 1 or (bare_unit not in BARE_UNITS and _float(number) != 0):
                raise InvalidInput(field, f"say the unit of {number}: write e.g. 4h, 90m or 1h 30m")
            total += _float(number) * BARE_UNITS.get(bare_unit or "", 1)
        elif unit in _TIME_UNITS:
            total += _float(number) * _TIME_UNITS[unit]
        else:
            raise InvalidInput(field, f"{unit!r} is not a unit; use d, h, m or s (e.g. 4h, 90m, 1h 30m)")
    return float(round(total))


def parse_amount(kpi_key: str, text: str, *, field: str = "threshold", bare_unit: str | None = None) -> float:
    """What a manager typed, in the KPI's unit: a duration (``4h``, ``90m``, ``1h 30m``,
    ``1.5 h``; a bare number in ``bare_unit``, "hours" or "minutes") as whole seconds, a
    percentage (``95``, ``95 %``, ``97,5``) or a whole count. Raises InvalidInput on ``field``;
    the range is checked by the actions."""
    unit = _kpi(kpi_key).unit
    if not text.strip():
        raise InvalidInput(field, "is required")
    if unit == Unit.SECONDS:
        return _parse_seconds(text, field, bare_unit)
    cleaned = text.strip()
    if unit == Unit.PERCENT:
        cleaned = cleaned.removesuffix("%").strip()
        if not re.fullmatch(_NUMBER, cleaned):
            raise InvalidInput(field, f"{text.strip()!r} is not a percentage; write a number from 0 to 100, e.g. 95")
        return _float(cleaned)
    if not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidInput(field, f"{text.strip()!r} is not a whole number of tickets")
    return float(cleaned)


# --- judging ------------------------------------------------------------------------------------


def kpi_direction(kpi_key: str) -> TargetDirection | None:
    """The direction a KPI's target takes, or None when the manager chooses (no better side)."""
    better = _kpi(kpi_key).higher_is_better
    if better is None:
        return None
    return TargetDirection.AT_LEAST if better else TargetDirection.AT_MOST


def _room(unit: Unit, threshold: float, direction: str) -> float:
    """How far a value can lie from the threshold on the passing side."""
    if direction == TargetDirection.AT_MOST:
        return threshold  # values are never negative
    return max(100.0 - threshold, 0.0) if unit == Unit.PERCENT else math.inf


def default_band(kpi_key: str, threshold: float, direction: str) -> float:
    """The at-risk band a new target gets unless the manager sets one."""
    unit = _kpi(kpi_key).unit
    if unit == Unit.PERCENT:
        band = DEFAULT_PERCENT_POINTS
    elif unit == Unit.SECONDS:
        band = float(round(threshold * DEFAULT_TIME_FRACTION))
    else:
        band = float(math.ceil(threshold * DEFAULT_COUNT_FRACTION))
    return min(band, _room(unit, threshold, direction))


def judge(target: KpiTarget, value: float) -> TargetState:
    """On track, at risk or missed (module docstring)."""
    band = target.at_risk_band
    if target.direction == TargetDirection.AT_LEAST:
        if value < target.threshold:
            return TargetState.MISSED
        at_risk = value <= target.threshold + band
    else:
        if value > target.threshold:
            return TargetState.MISSED
        at_risk = value >= target.threshold - band
    return TargetState.AT_RISK if band > 0 and at_risk else TargetState.ON_TRACK


def _hours_note(kpi_key: str) -> str:
    for hours in ("business", "calendar"):
        if KPIS[kpi_key].unit == Unit.SECONDS and kpi_key.endswith(f"_{hours}"):
            return f" ({hours})"
    return ""


def rule_text(target: KpiTarget) -> str:
    """``at most 4 h (business)``, ``at least 95 %``."""
    at_most = target.direction == TargetDirection.AT_MOST
    text = f"{'at most' if at_most else 'at least'} {format_value(target.kpi, target.threshold)}"
    return text + _hours_note(target.kpi)


def risk_text(target: KpiTarget) -> str:
    """Where at risk starts: ``from 3 h 36 min`` (at most), ``up to 97 %`` (at least); "" for
    a target without a band."""
    if target.at_risk_band <= 0:
        return ""
    if target.direction == TargetDirection.AT_MOST:
        return f"from {format_value(target.kpi, max(target.threshold - target.at_risk_band, 0.0))}"
    return f"up to {format_value(target.kpi, target.threshold + target.at_risk_band)}"


def describe(target: KpiTarget) -> str:
    """``Target: at most 4 h (business) — at risk from 3 h 36 min``."""
    if target.kpi not in KPIS:
        return "Target on a KPI that no longer exists"
    risk = risk_text(target)
    return f"Target: {rule_text(target)}" + (f" — at risk {risk}" if risk else "")


def scope_label(target: KpiTarget) -> str:
    """``Whole desk``, ``Team: Billing``, ``Agent: Ann Lee`` (reads ``team``/``agent``: load
    them with the target, as ``load`` does)."""
    if target.agent_id is not None:
        assert target.agent is not None
        return f"Agent: {target.agent.name}"
    if target.team_id is not None:
        assert target.team is not None
        return f"Team: {target.team.name}"
    return "Whole desk"


# --- the book of every target -------------------------------------------------------------------

_DESK = ("desk", 0)


def _scope_key(target: KpiTarget) -> tuple[str, int]:
    if target.agent_id is not None:
        return ("agent", target.agent_id)
    if target.team_id is not None:
        return ("team", target.team_id)
    return _DESK


class TargetBook:
    """Every target, read once; answers which target applies to a figure and how it fares."""

    def __init__(self, targets: list[KpiTarget]) -> None:
        self._targets = targets
        self._index = {(t.kpi, *_scope_key(t)): t for t in targets}

    def __iter__(self) -> Iterator[KpiTarget]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def target_for(self, kpi: str, *, team_id: int | None = None, agent_id: int | None = None) -> KpiTarget | None:
        """agent's own target, else the team's (team_id given), else the desk-wide one."""
        if agent_id is not None and (found := self._index.get((kpi, "agent", agent_id))):
            return found
        if team_id is not None and (found := self._index.get((kpi, "team", team_id))):
            return found
        return self._index.get((kpi, *_DESK))

    def status(
        self, kpi: str, value: float | None, *, team_id: int | None = None, agent_id: int | None = None
    ) -> TargetStatus | None:
        """None when no target applies or value is None."""
        if value is None:
            return None
        target = self.target_for(kpi, team_id=team_id, agent_id=agent_id)
        if target is None:
            return None
        return TargetStatus(state=judge(target, value), target=target, value=value)


def load() -> TargetBook:
    """Every target, ONE query (with its team and agent, for scope labels)."""
    targets = KpiTarget.objects.select_related("team", "agent").order_by("kpi", "id")
    # A target on a KPI removed from the catalogue is kept in the database but judged nowhere.
    return TargetBook([t for t in targets if t.kpi in KPIS])


# --- target_actions: every change to targets ----------------------------------------------------


def _check_threshold(kpi: Kpi, value: float, field: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(field, "must be a number of 0 or more")
    if kpi.unit == Unit.PERCENT and value > 100:
        raise InvalidInput(field, "is a percentage: at most 100")
    if kpi.unit == Unit.COUNT and value != int(value):
        raise InvalidInput(field, "must be a whole number of tickets")
    if kpi.unit == Unit.SECONDS:
        if field == "threshold" and value <= 0:
            raise InvalidInput(field, "must be longer than zero")
        if value > MAX_SECONDS:
            raise InvalidInput(field, f"must be at most {MAX_SECONDS // 3600} h")
        value = float(round(value))
    return float(value)


@dataclass(frozen=True)
class _Values:
    """A target's fields once checked."""

    kpi: str
    team: Team | None
    agent: User | None
    direction: TargetDirection
    threshold: float
    at_risk_band: float
    notes: str


def _clean(
    *,
    kpi: str,
    threshold: float,
    team: Team | None,
    agent: User | None,
    direction: str | None,
    at_risk_band: float | None,
    notes: str,
    current: KpiTarget | None,
) -> _Values:
    found = _kpi(kpi)
    if team is not None and agent is not None:
        raise InvalidInput("agent", "a target is for the whole desk, one team or one agent: not a team and an agent")
    if agent is not None:
        if agent.role not in AGENT_ROLES:
            raise InvalidInput("agent", f"{agent.name} is not an agent; targets are set on agents, managers or admins")
        if not agent.is_active and (current is None or current.agent_id != agent.pk):
            raise InvalidInput("agent", f"{agent.name} is deactivated")
    fixed = kpi_direction(kpi)
    if fixed is None:
        if direction not in TargetDirection.values:
            raise InvalidInput("direction", f"choose at least or at most: {found.label} has no better side")
        chosen = TargetDirection(direction)
    else:
        if direction and direction != fixed:
            better = "higher" if found.higher_is_better else "lower"
            raise InvalidInput(
                "direction", f"{found.label}: {better} is better, so its target is {fixed.label.lower()}"
            )
        chosen = fixed
    value = _check_threshold(found, threshold, "threshold")
    if at_risk_band is None:
        band = default_band(kpi, value, chosen)
    else:
        band = _check_threshold(found, at_risk_band, "at_risk_band")
        room = _room(found.unit, value, chosen)
        if band > room:
            raise InvalidInput(
                "at_risk_band",
                f"must be at most {format_value(kpi, room)}: the room between the threshold and the limit",
            )
    notes = notes.strip()
    if len(notes) > NOTES_MAX:
        raise InvalidInput("notes", f"must be at most {NOTES_MAX} characters (it has {len(notes)})")
    return _Values(kpi=kpi, team=team, agent=agent, direction=chosen, threshold=value, at_risk_band=band, notes=notes)


def _duplicate_error(values: _Values) -> InvalidInput:
    if values.agent is not None:
        scope = f"agent {values.agent.name}"
    elif values.team is not None:
        scope = f"team {values.team.name}"
    else:
        scope = "the whole desk"
    return InvalidInput("kpi", f"there is already a {KPIS[values.kpi].label} target for {scope}; edit that one")


def _save(target: KpiTarget, values: _Values) -> KpiTarget:
    duplicate = KpiTarget.objects.filter(kpi=values.kpi, team=values.team, agent=values.agent)
    if target.pk is not None:
        duplicate = duplicate.exclude(pk=target.pk)
    if duplicate.exists():
        raise _duplicate_error(values)
    for name, value in vars(values).items():
        setattr(target, name, value)
    try:
        # Savepoint: a concurrent twin is reported like the check above, without breaking the
        # caller's transaction.
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise _duplicate_error(values) from None
    return target


def create_target(
    *,
    kpi: str,
    threshold: float,
    team: Team | None = None,
    agent: User | None = None,
    direction: str | None = None,
    at_risk_band: float | None = None,
    notes: str = "",
    created_by: User | None = None,
) -> KpiTarget:
    """A new target (``at_risk_band`` None: the default for the unit; ``direction`` only for
    KPIs without a better side, else it must agree with the KPI or be None)."""
    values = _clean(
        kpi=kpi, threshold=threshold, team=team, agent=agent, direction=direction,
        at_risk_band=at_risk_band, notes=notes, current=None,
    )  # fmt: skip
    return _save(KpiTarget(created_by=created_by), values)


def update_target(
    target: KpiTarget,
    *,
    kpi: str,
    threshold: float,
    team: Team | None = None,
    agent: User | None = None,
    direction: str | None = None,
    at_risk_band: float | None = None,
    notes: str = "",
) -> KpiTarget:
    """Replace what the target says (same rules as ``create_target``)."""
    values = _clean(
        kpi=kpi, threshold=threshold, team=team, agent=agent, direction=direction,
        at_risk_band=at_risk_band, notes=notes, current=target,
    )  # fmt: skip
    return _save(target, values)


def delete_target(target: KpiTarget) -> None:
    target.delete()
