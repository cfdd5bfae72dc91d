"""Agent and team scorecards: each agent's (or team's) KPIs over a period beside the team's (or
the whole desk's) figure and the KPI target, every figure linking to its tickets.

- Agents: the active agents (of one team when a team is chosen); each agent's figures are the
  tickets assigned to them now, whichever team holds them (rollups by agent), compared with the
  team's own figures (its tickets, rollups by team) or, without a team, the whole desk's.
- Teams: every team's figures compared with the whole desk's.

"Team average" is the team's pooled figure (its median of all its tickets, its rate over all its
tickets), not a mean of the agents' figures: a busy agent weighs as much as their tickets do.
Volumes (solved) are compared with the team's per member (per team for the desk).
Targets apply agent → team → desk (analytics.targets). Two rollup queries and two name queries
whatever the number of agents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from deskpilot.accounts.models import AGENT_ROLES, Team, User
from deskpilot.analytics import kpis, rollups
from deskpilot.analytics.drilldown import drill_url
from deskpilot.analytics.kpis import Kpi
from deskpilot.analytics.models import RollupDimension
from deskpilot.analytics.performance import Filters
from deskpilot.analytics.rollups import Day
from deskpilot.analytics.tables import Cell, Column, Table


def scorecard_kpis(hours: str) -> list[Kpi]:
    keys = [
        "solved",
        kpis.time_kpi("first_reply", "median", hours),
        kpis.time_kpi("first_reply", "p90", hours),
        kpis.time_kpi("resolution", "median", hours),
        "sla_achievement",
        "reopen_rate",
        "one_touch_rate",
        "csat",
    ]
    return [kpis.KPIS[key] for key in keys]


@dataclass
class Score:
    kpi: Kpi
    value: float | None
    # The team's (or desk's) figure it is compared with, and whether this one is better.
    reference: float | None
    better: bool | None
    url: str
    status: Any = None  # analytics.targets.TargetStatus, when a target applies


@dataclass
class Card:
    name: str
    # The filters of this row's tickets (agent= or team=): its drill-down links use them.
    filters: Filters
    scores: list[Score] = field(default_factory=list)


@dataclass
class Scorecards:
    kind: str  # "agents" or "teams"
    filters: Filters
    kpis: list[Kpi]
    reference_name: str
    reference: Card
    cards: list[Card]

    def table(self) -> Table:
        """The scorecards as one table (the page's download): a row per agent or team, then the reference."""
        label = "Agent" if self.kind == "agents" else "Team"
        columns = [Column("name", label)]
        for kpi in self.kpis:
            columns.append(Column(kpi.key, kpi.label, kpi.unit))
        table = Table(self.kind, f"{label} scorecards", columns)
        for card in [*self.cards, self.reference]:
            table.add(
                card.name, *(Cell(s.value, s.url, s.status.state.value if s.status else None) for s in card.scores)
            )
        return table


def _per_member(reference: dict[str, float | None], kpi_list: list[Kpi], members: int) -> dict[str, float | None]:
    """What a row is compared with: the reference's figures, except volumes, which are shared
    out (an agent's solved tickets against the team's per member, not against all of them)."""
    shared = dict(reference)
    for kpi in kpi_list:
        value = reference.get(kpi.key)
        if kpi.unit == kpis.Unit.COUNT and value is not None:
            shared[kpi.key] = value / members if members else None
    return shared


def _scores(
    card: Card,
    total: Day,
    kpi_list: list[Kpi],
    reference: dict[str, float | None] | None,
    book: Any,
    scope: dict[str, Any],
) -> None:
    found = kpis.values(total)
    for kpi in kpi_list:
        value = found[kpi.key]
        ref = reference.get(kpi.key) if reference is not None else None
        better = None
        if reference is not None and value is not None and ref is not None and value != ref:
            better = kpis.is_better(kpi, value, ref)
        status = book.status(kpi.key, value, **scope) if book is not None else None
        card.scores.append(Score(kpi, value, ref, better, drill_url(card.filters, kpi.measure), status))


def _period(filters: Filters) -> Filters:
    # Scorecards compare people over the period only: the other filters do not apply.
    return Filters(start=filters.start, end=filters.end, hours=filters.hours)


def agents(filters: Filters, team: Team | None, book: Any = None) -> Scorecards:
    """Every active agent (of ``team``) beside the team's figures (the desk's without a team)."""
    base = _period(filters)
    kpi_list = scorecard_kpis(filters.hours)
    people = User.objects.filter(role__in=AGENT_ROLES, is_active=True).order_by("name")
    if team is not None:
        people = people.filter(teams=team)
    people_list = list(people)
    totals = rollups.totals_by_key(base.start, base.end, RollupDimension.AGENT, [str(p.pk) for p in people_list])
    if team is not None:
        found = rollups.totals_by_key(base.start, base.end, RollupDimension.TEAM, [str(team.pk)])
        reference_total = found.get(str(team.pk)) or rollups.period_total([])
        reference_filters, reference_name = replace(base, team=team.pk), f"Team {team.name}"
    else:
        reference_total = rollups.period_total(rollups.rollup_series(base.start, base.end))
        reference_filters, reference_name = base, "All agents (whole desk)"
    reference = Card(reference_name, reference_filters)
    _scores(reference, reference_total, kpi_list, None, book, {"team_id": team.pk if team else None})
    reference_values = _per_member({s.kpi.key: s.value for s in reference.scores}, kpi_list, len(people_list))
    cards = []
    empty = rollups.period_total([])
    for person in people_list:
        card = Card(person.name or person.email, replace(base, agent=person.pk))
        scope = {"team_id": team.pk if team else None, "agent_id": person.pk}
        _scores(card, totals.get(str(person.pk), empty), kpi_list, reference_values, book, scope)
        cards.append(card)
    return Scorecards("agents", base, kpi_list, reference_name, reference, cards)


def teams(filters: Filters, book: Any = None) -> Scorecards:
    """Every team beside the whole desk's figures."""
    base = _period(filters)
    kpi_list = scorecard_kpis(filters.hours)
    team_list = list(Team.objects.order_by("name"))
    totals = rollups.totals_by_key(base.start, base.end, RollupDimension.TEAM, [str(t.pk) for t in team_list])
    reference = Card("Whole desk", base)
    _scores(reference, rollups.period_total(rollups.rollup_series(base.start, base.end)), kpi_list, None, book, {})
    reference_values = _per_member({s.kpi.key: s.value for s in reference.scores}, kpi_list, len(team_list))
    cards = []
    empty = rollups.period_total([])
    for team in team_list:
        card = Card(team.name, replace(base, team=team.pk))
        _scores(card, totals.get(str(team.pk), empty), kpi_list, reference_values, book, {"team_id": team.pk})
        cards.append(card)
    return Scorecards("teams", base, kpi_list, "Whole desk", reference, cards)
