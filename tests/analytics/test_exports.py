"""Tables as downloads (deskpilot.analytics.exports): CSV with units in the header and raw values,
XLSX read back with openpyxl, text that would run as a formula kept as text, and the responses
and links the pages use."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import RequestFactory
from openpyxl import load_workbook  # type: ignore[import-untyped]

from deskpilot.analytics import exports
from deskpilot.analytics.kpis import Unit
from deskpilot.analytics.tables import Cell, Column, Table
from deskpilot.core.errors import InvalidInput


def daily() -> Table:
    table = Table(
        "daily",
        "Per day",
        [
            Column("day", "Day"),
            Column("created", "Created", Unit.COUNT),
            Column("frt", "First reply median", Unit.SECONDS),
            Column("sla", "SLA achievement", Unit.PERCENT),
        ],
    )
    table.add(datetime.date(2026, 3, 2), 12, Cell(5400, url="/drill"), 95.25)
    table.add(datetime.date(2026, 3, 3), 0, None, None)
    return table


def tags() -> Table:
    table = Table("tags", "Tags: busiest [top 10]", [Column("tag", "Tag"), Column("tickets", "Tickets", Unit.COUNT)])
    for name in ('=HYPERLINK("http://x")', "+1", "-2", "@sum", "plain", "élan"):
        table.add(name, 3)
    return table


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_units_in_the_header_raw_values_and_empty_for_no_data() -> None:
    rows = read_csv(exports.csv_bytes(daily()))
    assert rows == [
        ["Day", "Created", "First reply median (seconds)", "SLA achievement (%)"],
        ["2026-03-02", "12", "5400", "95.25"],
        ["2026-03-03", "0", "", ""],
    ]


def test_csv_keeps_text_that_looks_like_a_formula_as_text() -> None:
    rows = read_csv(exports.csv_bytes(tags()))
    assert [row[0] for row in rows[1:]] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@sum", "plain", "élan"]
    # Numbers are not text: a negative count stays a number.
    table = Table("t", "T", [Column("n", "Change", Unit.COUNT)])
    table.add(-4)
    assert read_csv(exports.csv_bytes(table))[1] == ["-4"]


def test_xlsx_round_trip() -> None:
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes([daily(), tags()])))
    assert workbook.sheetnames == ["Per day", "Tags  busiest  top 10"]
    sheet = workbook["Per day"]
    assert [c.value for c in sheet[1]] == ["Day", "Created", "First reply median (hours)", "SLA achievement (%)"]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    day, created, frt, sla = sheet[2]
    assert day.is_date
    assert day.value == datetime.datetime(2026, 3, 2)
    assert day.number_format == "yyyy-mm-dd"
    assert (created.value, created.number_format) == (12, "#,##0")
    assert (frt.value, frt.number_format) == (1.5, "0.00")  # 5400 seconds in hours
    assert (sla.value, sla.number_format) == (95.25, "0.0")
    assert [c.value for c in sheet[3]] == [datetime.datetime(2026, 3, 3), 0, None, None]
    assert sheet.column_dimensions["C"].width >= len("First reply median (hours)")
    # Formula-like text is stored as text, exactly as typed.
    tag_cells = [row[0] for row in workbook.worksheets[1].iter_rows(min_row=2)]
    assert [c.value for c in tag_cells][:4] == ['=HYPERLINK("http://x")', "+1", "-2", "@sum"]
    assert {c.data_type for c in tag_cells} == {"s"}


def test_xlsx_sheet_names_are_unique_and_short_and_datetimes_are_utc() -> None:
    long = Table("a", "A" * 40, [Column("at", "At")])
    long.add(datetime.datetime(2026, 3, 2, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2))))
    again = Table("b", "a" * 40, [Column("x", "X")])
    workbook = load_workbook(io.BytesIO(exports.xlsx_bytes([long, again])))
    assert workbook.sheetnames == ["A" * 31, "a" * 27 + " (2)"]
    assert workbook.worksheets[0]["A2"].value == datetime.datetime(2026, 3, 2, 8, 30)


def test_export_response_csv_the_first_or_the_named_table() -> None:
    response = exports.export_response([daily(), tags()], "csv", "Performance report")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="performance-report-daily.csv"'
    assert read_csv(response.content)[0][0] == "Day"
    named = exports.export_response([daily(), tags()], "csv", "performance", table="tags")
    assert read_csv(named.content)[0] == ["Tag", "Tickets"]
    with pytest.raises(InvalidInput) as error:
        exports.export_response([daily()], "csv", "performance", table="nope")
    assert error.value.errors == {"table": "'nope' is not one of: daily"}


def test_export_response_xlsx_and_a_bad_format() -> None:
    response = exports.export_response([daily(), tags()], "xlsx", "performance")
    assert response["Content-Type"] == exports.XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="performance.xlsx"'
    assert len(load_workbook(io.BytesIO(response.content)).worksheets) == 2
    with pytest.raises(InvalidInput) as error:
        exports.export_response([daily()], "pdf", "performance")
    assert error.value.errors == {"format": "'pdf' is not one of: csv, xlsx"}


def test_export_links_keep_the_page_filters() -> None:
    request = RequestFactory().get("/analytics/performance/", {"from": "2026-03-01", "team": "4", "format": "csv"})
    links = exports.export_links(request, "daily")
    assert links["csv"] == "/analytics/performance/?from=2026-03-01&team=4&format=csv&table=daily"
    assert links["xlsx"] == "/analytics/performance/?from=2026-03-01&team=4&format=xlsx&table=daily"
