"""A table as the analytics pages show it and every export writes it (CSV, XLSX, the PDF).

The pages lay a ``Table`` out in HTML; ``analytics.exports`` writes the same object to CSV and
XLSX, so a download holds exactly the figures on the screen. Values stay raw (seconds as whole
numbers, percentages as numbers 0-100, None for "no data"); each column's unit says how to show
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskpilot.analytics.kpis import Unit


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # None: text (names, dates); otherwise how to format the number.
    unit: Unit | None = None


@dataclass(frozen=True)
class Cell:
    value: Any
    # The drill-down list of the tickets behind the figure, when there is one.
    url: str | None = None
    # A KPI target's status for this figure ("on_track", "at_risk", "missed"), when one is set.
    status: str | None = None


@dataclass
class Table:
    # A slug, unique on its page: the ``table`` parameter of the export links.
    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)

    def add(self, *cells: Cell | Any) -> None:
        """Append a row; plain values become cells without a link."""
        if len(cells) != len(self.columns):
            raise ValueError(f"table {self.name}: {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])

    def values(self) -> list[list[Any]]:
        """The rows' raw values (what CSV and XLSX write)."""
        return [[cell.value for cell in row] for row in self.rows]
