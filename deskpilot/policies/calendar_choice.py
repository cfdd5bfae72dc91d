"""Which business-hours calendar a ticket's business time counts on: the SLA policy's calendar,
the one a rule pinned, the team's, the organization's, the default; none (around the clock)
without any. The one place that decides it, for the SLA clocks (``sla.calendar_for`` and the bulk
rebuild), the rules' business-hours conditions and the ticket metrics (which apply it to each
``CalendarKey`` a ticket's events show it had, with the assignments as configured now: they have no
history of their own).

``Assignments`` holds the assignments the keys need: all of them for the bulk rebuilds (loaded
once, ``load_all``), or just those of one ticket's keys on the live path, in one plain statement
(``load_for``; an ORM query with the same ranking cost 1.5 ms of CPU to build); ``choose`` ranks
them, the same code for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from deskpilot.policies.models import (
    BusinessCalendar,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    TeamCalendar,
)

# What chooses a ticket's calendar at a moment: (SLA policy, pinned calendar, team, organization).
CalendarKey = tuple[int | None, int | None, int | None, int | None]


@dataclass
class Assignments:
    calendars: dict[int, BusinessCalendar] = field(default_factory=dict)
    policies: dict[int, int] = field(default_factory=dict)  # policy id -> calendar id
    teams: dict[int, int] = field(default_factory=dict)
    organizations: dict[int, int] = field(default_factory=dict)
    default: int | None = None

    def choose(self, key: CalendarKey) -> BusinessCalendar | None:
        policy, pinned, team, organization = key
        candidates = (
            self.policies.get(policy) if policy is not None else None,
            pinned,
            self.teams.get(team) if team is not None else None,
            self.organizations.get(organization) if organization is not None else None,
            self.default,
        )
        for candidate in candidates:
            if candidate is not None and candidate in self.calendars:
                return self.calendars[candidate]
        return None


def load_all() -> Assignments:
    """Every assignment (the rebuild: five queries once, whatever the number of tickets)."""
    defaults = DefaultCalendar.objects.order_by("calendar_id").values_list("calendar_id", flat=True)
    return Assignments(
        calendars={c.pk: c for c in BusinessCalendar.objects.all()},
        policies=dict(SlaPolicy.objects.exclude(calendar=None).values_list("pk", "calendar_id")),
        teams=dict(TeamCalendar.objects.values_list("team_id", "calendar_id")),
        organizations=dict(OrganizationCalendar.objects.values_list("organization_id", "calendar_id")),
        default=defaults.first(),
    )


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted({v for v in values if v is not None})


def load_for(keys: Iterable[CalendarKey]) -> Assignments:
    """The assignments these keys can reach, with their calendars, in one statement (the live
    path). Every branch names its columns: any of them may come first. Only table names from the
    models and placeholders are formatted in."""
    keys = list(keys)
    branches: list[str] = []
    params: list[int] = []

    def branch(sql: str, ids: list[int]) -> None:
        if ids:
            branches.append(sql.format(", ".join(["%s"] * len(ids))))
            params.extend(ids)

    branch(
        f"SELECT 'p' AS kind, id AS ref, calendar_id FROM {_table(SlaPolicy)} WHERE id IN ({{}})",
        _ids(k[0] for k in keys),
    )
    branch(
        f"SELECT 'c' AS kind, id AS ref, id AS calendar_id FROM {_table(BusinessCalendar)} WHERE id IN ({{}})",
        _ids(k[1] for k in keys),
    )
    branch(
        f"SELECT 't' AS kind, team_id AS ref, calendar_id FROM {_table(TeamCalendar)} WHERE team_id IN ({{}})",
        _ids(k[2] for k in keys),
    )
    branch(
        f"SELECT 'o' AS kind, organization_id AS ref, calendar_id FROM {_table(OrganizationCalendar)} "
        "WHERE organization_id IN ({})",
        _ids(k[3] for k in keys),
    )
    branches.append(f"SELECT 'd' AS kind, 0 AS ref, calendar_id FROM {_table(DefaultCalendar)}")
    sql = (
        f"SELECT c.*, a.kind, a.ref FROM ({' UNION ALL '.join(branches)}) a "
        f"JOIN {_table(BusinessCalendar)} c ON c.id = a.calendar_id ORDER BY a.kind, a.ref, c.id"
    )
    found = Assignments()
    for calendar in BusinessCalendar.objects.raw(sql, params):
        kind, ref = calendar.kind, calendar.ref  # type: ignore[attr-defined]
        found.calendars[calendar.pk] = calendar
        if kind == "p":
            found.policies[ref] = calendar.pk
        elif kind == "t":
            found.teams[ref] = calendar.pk
        elif kind == "o":
            found.organizations[ref] = calendar.pk
        elif kind == "d" and found.default is None:
            found.default = calendar.pk
    return found
