"""Which business-hours calendar a ticket's business time counts on: the SLA policy's calendar,
the one a rule pinned, the team's, the organization's, the default; none (around the clock)
without any. The one place that decides it, for the SLA clocks (``sla.calendar_for`` and the bulk
rebuild), the rules' business-hours conditions and the ticket metrics (which apply it to each
``CalendarKey`` a ticket's events show it had, with the assignments as configured now: they have no
history of their own).

``Assignments`` holds every assignment: loaded once by the bulk rebuilds (``load_all``), and kept
per process for the live path (``current``), loaded again when the SLA configuration changes
(``config_version``: assignments move its counter). ``choose`` ranks them, the same code for both.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from deskpilot.policies import config_version
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


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"key": None, "assignments": None}


def current() -> Assignments:
    """Every assignment, loaded once per process and again when the SLA configuration changes
    (``config_version.stamp``, read once per ticket change): the live path (the SLA clock, the
    rules' business-hours conditions, the metrics record) asks no query of its own."""
    key = config_version.stamp()
    with _cache_lock:
        if _cache["key"] == key and _cache["assignments"] is not None:
            found: Assignments = _cache["assignments"]
            return found
    assignments = load_all()
    with _cache_lock:
        _cache.update(key=key, assignments=assignments)
    return assignments


def clear_cache() -> None:
    with _cache_lock:
        _cache.update(key=None, assignments=None)
