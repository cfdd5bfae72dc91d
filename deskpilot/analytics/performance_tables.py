"""The performance report laid out as tables (analytics.tables): what the performance page shows,
what its CSV and XLSX downloads hold, and what scheduled reports attach. Every figure's cell
links to its drill-down list (analytics.drilldown).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deskpilot.accounts.models import Team, User
from deskpilot.analytics import kpis, rollups
from deskpilot.analytics.drilldown import drill_url
from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.models import RollupDimension
from deskpilot.analytics.performance import NONE, Filters, Report
from deskpilot.analytics.rollups import Day
from deskpilot.analytics.tables import Cell, Column, Table
from deskpilot.customers.models import Organization
from deskpilot.tickets.models import Channel, Priority, TicketType

# The dimensions a breakdown table groups by: (filter name, rollup dimension, label).
BREAKDOWNS = {
    "team": (RollupDimension.TEAM, "Team"),
    "agent": (RollupDimension.AGENT, "Agent"),
    "channel": (RollupDimension.CHANNEL, "Channel"),
    "priority": (RollupDimension.PRIORITY, "Priority"),
    "type": (RollupDimension.TYPE, "Type"),
    "organization": (RollupDimension.ORGANIZATION, "Organization"),
}


def kpi_table(report: Report, statuses: dict[str, Any] | None = None) -> Table:
    """The headline KPIs: this period, the previous one, the change, and the target's status
    (``statuses`` by KPI key: analytics.targets.TargetStatus, when a target applies)."""
    statuses = statuses or {}
    table = Table(
        "kpis",
        "Key figures",
        [
            Column("kpi", "KPI"),
            Column("value", "This period"),
            Column("previous", "Previous period"),
            Column("change", "Change"),
            Column("target", "Target"),
        ],
    )
    for figure in report.headline():
        status = statuses.get(figure.kpi.key)
        url = drill_url(report.filters, figure.kpi.measure)
        previous_url = drill_url(report.previous_filters, figure.kpi.measure)
        table.add(
            figure.kpi.label,
            Cell(figure.value, url, status.state.value if status else None),
            Cell(figure.previous, previous_url),
            figure.change,
            status.label if status else None,
        )
    return table


DAILY_COLUMNS = [
    Column("day", "Day"),
    Column("created", "Created", Unit.COUNT),
    Column("solved", "Solved", Unit.COUNT),
    Column("backlog", "Backlog at end of day", Unit.COUNT),
    Column("first_reply_median", "First reply median", Unit.SECONDS),
    Column("first_reply_p90", "First reply p90", Unit.SECONDS),
    Column("resolution_median", "Resolution median", Unit.SECONDS),
    Column("resolution_p90", "Resolution p90", Unit.SECONDS),
    Column("sla_achievement", "SLA achievement", Unit.PERCENT),
    Column("reopen_rate", "Reopen rate", Unit.PERCENT),
    Column("one_touch_rate", "One-touch rate", Unit.PERCENT),
    Column("escalation_rate", "Escalation rate", Unit.PERCENT),
    Column("csat", "CSAT", Unit.PERCENT),
]
# The drill-down measure behind each daily column.
_DAILY_MEASURES = {
    "created": "created",
    "solved": "solved",
    "backlog": "backlog",
    "first_reply_median": "first_reply",
    "first_reply_p90": "first_reply",
    "resolution_median": "resolution",
    "resolution_p90": "resolution",
    "sla_achievement": "sla_breached",
    "reopen_rate": "reopened",
    "one_touch_rate": "one_touch",
    "escalation_rate": "escalated",
    "csat": "csat_bad",
}


def daily_table(report: Report) -> Table:
    """One row per day of the period (times in the report's hours)."""
    table = Table("daily", f"Per day ({report.filters.hours} hours)", list(DAILY_COLUMNS))
    for point in report.points:
        cells: list[Any] = [point.day]
        for column in DAILY_COLUMNS[1:]:
            value = getattr(point, column.key)
            cells.append(Cell(value, drill_url(report.filters, _DAILY_MEASURES[column.key], point.day)))
        table.add(*cells)
    return table


def sla_table(report: Report) -> Table:
    table = Table(
        "sla",
        "SLA achievement per target",
        [
            Column("target", "Target"),
            Column("met", "Met", Unit.COUNT),
            Column("breached", "Breached", Unit.COUNT),
            Column("rate", "Achievement", Unit.PERCENT),
            Column("previous", "Previous period", Unit.PERCENT),
        ],
    )
    for row in report.sla_targets:
        table.add(
            row.label,
            Cell(row.met, drill_url(report.filters, f"sla_{row.metric}_met")),
            Cell(row.breached, drill_url(report.filters, f"sla_{row.metric}_breached")),
            # A rate opens what it is short of: the breached ones, this period and the previous.
            Cell(row.rate, drill_url(report.filters, f"sla_{row.metric}_breached")),
            Cell(row.previous_rate, drill_url(report.previous_filters, f"sla_{row.metric}_breached")),
        )
    return table


BREAKDOWN_COLUMNS = [
    Column("created", "Created", Unit.COUNT),
    Column("solved", "Solved", Unit.COUNT),
    Column("first_reply_median", "First reply median", Unit.SECONDS),
    Column("resolution_median", "Resolution median", Unit.SECONDS),
    Column("sla_achievement", "SLA achievement", Unit.PERCENT),
    Column("reopen_rate", "Reopen rate", Unit.PERCENT),
    Column("one_touch_rate", "One-touch rate", Unit.PERCENT),
    Column("csat", "CSAT", Unit.PERCENT),
]


def key_labels(by: str, keys: list[str]) -> dict[str, str]:
    """Names for a breakdown's keys: team, agent and organization names (one query), choice
    labels otherwise; "" is "none"."""
    if by in ("team", "agent", "organization"):
        ids = [int(k) for k in keys if k]
        model: Any = {"team": Team, "agent": User, "organization": Organization}[by]
        names = {
            str(item.pk): str(getattr(item, "name", "") or item) for item in model._default_manager.filter(pk__in=ids)
        }
        none = {"team": "No team", "agent": "Unassigned", "organization": "No organization"}[by]
        return {k: names.get(k, f"unknown ({k})") if k else none for k in keys}
    choices: Any = {"channel": Channel, "priority": Priority, "type": TicketType}[by]
    return {k: str(choices(k).label) if k in choices.values else k for k in keys}


def breakdown(filters: Filters, by: str) -> dict[str, Day]:
    """The period's totals per key of ``by``: from the rollups when no filter is set (or only
    ``by`` itself), otherwise from the records."""
    dimension, _ = BREAKDOWNS[by]
    chosen = filters.chosen()
    if not chosen or set(chosen) == {by}:
        keys = None
        if by in chosen:
            value = chosen[by]
            keys = ["" if value == NONE and by in ("team", "agent", "organization") else str(value)]
        return rollups.totals_by_key(filters.start, filters.end, dimension, keys)
    return rollups.filtered_totals_by_key(filters.start, filters.end, dimension, filters.record_filter())


def breakdown_table(filters: Filters, by: str, totals: dict[str, Day] | None = None) -> Table:
    """One row per team (agent, channel...) with its figures, busiest first; each figure drills
    down to its tickets, with the row's key added to the filters."""
    totals = breakdown(filters, by) if totals is None else totals
    _, label = BREAKDOWNS[by]
    table = Table(f"by_{by}", f"By {label.lower()}", [Column("key", label), *BREAKDOWN_COLUMNS])
    labels = key_labels(by, list(totals))
    suffix = "_business" if filters.hours == "business" else ""
    rows = sorted(totals.items(), key=lambda item: (-item[1].counts["created"], labels[item[0]]))
    for key, total in rows:
        if not total.counts["created"] and not total.counts["solved"]:
            continue
        value: Any = (NONE if key == "" else int(key)) if by in ("team", "agent", "organization") else key
        row_filters = replace(filters, **{by: value})
        found = kpis.values(total)
        figures = {
            "created": total.counts["created"],
            "solved": total.counts["solved"],
            "first_reply_median": total.median_and_p90(f"first_reply_time{suffix}")[0],
            "resolution_median": total.median_and_p90(f"full_resolution_time{suffix}")[0],
            "sla_achievement": found["sla_achievement"],
            "reopen_rate": found["reopen_rate"],
            "one_touch_rate": found["one_touch_rate"],
            "csat": found["csat"],
        }
        cells = [Cell(labels[key])]
        for column in BREAKDOWN_COLUMNS:
            cells.append(Cell(figures[column.key], drill_url(row_filters, _DAILY_MEASURES.get(column.key, column.key))))
        table.add(*cells)
    return table
