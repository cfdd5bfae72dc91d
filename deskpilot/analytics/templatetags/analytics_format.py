"""Template filters of the analytics pages: figures shown in their unit (analytics.formatting),
so a page, its exports and the PDF read the same."""

from __future__ import annotations

import datetime
from typing import Any

from django import template

from deskpilot.analytics import formatting
from deskpilot.analytics.kpis import Kpi, Unit

register = template.Library()


@register.filter
def in_unit(value: Any, unit: Unit | str | None) -> str:
    """A raw figure shown in its unit: "3 h 12 min", "95.2 %", "1,204"; "—" for no data."""
    if value is None:
        return "—"
    if unit == Unit.SECONDS:
        return formatting.duration(value)
    if unit == Unit.PERCENT:
        return formatting.percent(value)
    if unit == Unit.COUNT:
        return formatting.number(value)
    if isinstance(value, datetime.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%a %-d %b}"
    return str(value)


@register.filter
def kpi_value(value: float | None, kpi: Kpi) -> str:
    return formatting.kpi_value(kpi, value)


@register.filter
def kpi_change(figure: Any) -> str:
    """A KPI figure's change from the previous period ("+12", "-3.5 pts", "+25 min")."""
    return formatting.kpi_change(figure.kpi, figure.value, figure.previous)


@register.filter
def cell_at(row: list[Any], index: int) -> Any:
    return row[index]


@register.filter
def get_table(tables: dict[str, Any], by: str) -> Any:
    """The breakdown table of ``by`` ("team" → tables["by_team"])."""
    return tables.get(f"by_{by}")
