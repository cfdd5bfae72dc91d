"""Every analytics table as a download: CSV (one table) and XLSX (a workbook of a page's tables).

Both write the ``analytics.tables.Table`` the page shows, so a download holds the figures on the
screen. CSV keeps the raw values (seconds, percentages 0-100), as BI tools and scripts read it;
XLSX is for people opening it in a spreadsheet, so times are in hours and every column has a
number format.

Both escape text a spreadsheet would run as a formula: tag, team and organization names are
typed by users, and "=HYPERLINK(...)" in a cell must stay text (CSV injection).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.tables import Column, Table
from deskpilot.core.errors import InvalidInput

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet reads as the start of a formula (OWASP's list: = + - @, tab, carriage return).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CSV_UNITS = {Unit.SECONDS: "seconds", Unit.PERCENT: "%"}
_XLSX_UNITS = {Unit.SECONDS: "hours", Unit.PERCENT: "%"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31
_WIDTH_MIN, _WIDTH_MAX = 8, 60


def header(column: Column, units: dict[Unit, str] = _CSV_UNITS) -> str:
    """The column's label with its unit: "First reply median (seconds)"."""
    unit = units.get(column.unit) if column.unit is not None else None
    return f"{column.label} ({unit})" if unit else column.label


def _defused(text: str) -> str:
    # A leading apostrophe makes spreadsheets show the rest as text; scripts see it plainly.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return _defused(str(value))


def csv_bytes(table: Table) -> bytes:
    """The table as CSV: a header of labels with units, then the raw values (None empty).
    UTF-8 with a byte order mark, without which Excel reads UTF-8 as the local code page."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_defused(header(column)) for column in table.columns])
    for row in table.values():
        writer.writerow([_csv_value(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def _sheet_title(title: str, taken: set[str]) -> str:
    # Excel's rules: at most 31 characters, none of []:*?/\ and unique in the workbook
    # (case-insensitively).
    base = _SHEET_FORBIDDEN.sub(" ", title).strip() or "Sheet"
    base = base[:_SHEET_MAX]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate = base[: _SHEET_MAX - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def _xlsx_value(value: Any, unit: Unit | None) -> tuple[Any, str | None]:
    """The value to store and its number format."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("yes" if value else "no"), None
    if isinstance(value, int | float):
        if unit is Unit.SECONDS:
            return value / 3600, "0.00"
        if unit is Unit.PERCENT:
            return value, "0.0"
        return value, "#,##0" if isinstance(value, int) or float(value).is_integer() else "#,##0.00"
    if isinstance(value, datetime.datetime):
        # Excel has no time zones: the stored instant is written as UTC.
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value, "yyyy-mm-dd hh:mm"
    if isinstance(value, datetime.date):
        return value, "yyyy-mm-dd"
    # openpyxl refuses control characters XML cannot hold.
    return ILLEGAL_CHARACTERS_RE.sub("", str(value)), None


def _shown_width(value: Any, number_format: str | None) -> int:
    if value is None:
        return 0
    if number_format == "yyyy-mm-dd":
        return 10
    if number_format == "yyyy-mm-dd hh:mm":
        return 16
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    if isinstance(value, int):
        return len(f"{value:,}")
    return len(str(value))


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """The tables as one workbook, a sheet each: bold frozen header, times in hours (two
    decimals), percentages as numbers with one decimal, dates as dates, columns wide enough."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title or table.name, taken))
        bold = Font(bold=True)
        widths = []
        for col, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=1, column=col, value=ILLEGAL_CHARACTERS_RE.sub("", header(column, _XLSX_UNITS)))
            cell.font = bold
            cell.data_type = "s"
            widths.append(len(str(cell.value)))
        for r, row in enumerate(table.values(), start=2):
            for col, (column, raw) in enumerate(zip(table.columns, row, strict=True), start=1):
                value, number_format = _xlsx_value(raw, column.unit)
                cell = sheet.cell(row=r, column=col, value=value)
                if isinstance(value, str):
                    # Text stays text even when it starts with "=": openpyxl would store a formula.
                    cell.data_type = "s"
                if number_format:
                    cell.number_format = number_format
                widths[col - 1] = max(widths[col - 1], _shown_width(value, number_format))
        sheet.freeze_panes = "A2"
        for col, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(col)].width = min(max(width + 2, _WIDTH_MIN), _WIDTH_MAX)
    if not workbook.worksheets:
        workbook.create_sheet("Empty")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = content_disposition_header(True, filename)
    assert disposition is not None  # None only when not an attachment
    response["Content-Disposition"] = disposition
    # Figures of the desk: not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def export_response(tables: Sequence[Table], fmt: str, filename_stem: str, *, table: str | None = None) -> HttpResponse:
    """A download of a page's tables: ``fmt`` "csv" writes the table named ``table`` (the first
    when None), "xlsx" every table in one workbook. Raises InvalidInput naming ``format`` or
    ``table`` when either is not one of the page's."""
    stem = slugify(filename_stem) or "export"
    if fmt == "csv":
        if not tables:
            raise InvalidInput("table", "this page has no table to export")
        chosen = tables[0]
        if table is not None:
            named = [t for t in tables if t.name == table]
            if not named:
                raise InvalidInput("table", f"{table!r} is not one of: {', '.join(t.name for t in tables)}")
            chosen = named[0]
        return _attachment(csv_bytes(chosen), CSV_TYPE, f"{stem}-{slugify(chosen.name) or 'table'}.csv")
    if fmt == "xlsx":
        return _attachment(xlsx_bytes(tables), XLSX_TYPE, f"{stem}.xlsx")
    raise InvalidInput("format", f"{fmt!r} is not one of: {', '.join(FORMATS)}")


def export_links(request: HttpRequest, table_name: str) -> dict[str, str]:
    """The current page's URL (its filters kept) asking for ``table_name`` as CSV and the page's
    tables as XLSX: ``{"csv": "...?from=...&format=csv&table=kpis", "xlsx": ...}``."""
    links = {}
    for fmt in FORMATS:
        params = request.GET.copy()
        params["format"] = fmt
        params["table"] = table_name
        links[fmt] = f"{request.path}?{params.urlencode()}"
    return links
