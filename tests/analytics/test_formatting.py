"""Figures as people read them (deskpilot.analytics.formatting): the pages, the PDF and e-mails
show every KPI through these."""

from __future__ import annotations

import pytest

from deskpilot.analytics import formatting
from deskpilot.analytics.kpis import KPIS


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "—"),
        (0, "0 s"),
        (45, "45 s"),
        (59.6, "1 min"),
        (720, "12 min"),
        (3599, "1 h"),
        (3 * 3600, "3 h"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (3 * 3600 + 12 * 60 + 20, "3 h 12 min"),
        (23 * 3600 + 59 * 60 + 50, "1 d"),
        (28 * 3600, "1 d 4 h"),
        (9 * 86400 + 1800, "9 d 1 h"),
        (-720, "-12 min"),
    ],
)
def test_duration(seconds: float | None, shown: str) -> None:
    assert formatting.duration(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (90, "1 min 30 s"),
        (4 * 3600, "4 h"),
        (3 * 3600 + 5 * 60, "3 h 05 min"),
        (12960, "3 h 36 min"),
        (3 * 3600 + 7, "3 h 07 s"),
        (2 * 86400, "2 d"),
        (86400 + 2 * 3600 + 5 * 60 + 30, "1 d 2 h 05 min 30 s"),
        (-90, "-1 min 30 s"),
    ],
)
def test_exact_duration_keeps_every_second(seconds: float, shown: str) -> None:
    assert formatting.exact_duration(seconds) == shown


def test_percent_number_and_no_data() -> None:
    assert formatting.percent(95.24) == "95.2 %"
    assert formatting.percent(100) == "100.0 %"
    assert formatting.percent(0) == "0.0 %"  # zero is a figure, not "no data"
    assert formatting.percent(None) == "—"
    assert formatting.number(12345) == "12,345"
    assert formatting.number(2.345, digits=2) == "2.35"
    assert formatting.number(0) == "0"
    assert formatting.number(None) == "—"


def test_kpi_value_follows_the_unit() -> None:
    assert formatting.kpi_value(KPIS["created"], 1200) == "1,200"
    assert formatting.kpi_value(KPIS["first_reply_median_business"], 7800) == "2 h 10 min"
    assert formatting.kpi_value(KPIS["csat"], 91.66) == "91.7 %"
    assert formatting.kpi_value(KPIS["csat"], None) == "—"


def test_kpi_change_is_signed_in_the_kpi_unit() -> None:
    assert formatting.kpi_change(KPIS["created"], 120, 100) == "+20"
    assert formatting.kpi_change(KPIS["backlog"], 80, 100) == "-20"
    assert formatting.kpi_change(KPIS["first_reply_median_business"], 7800, 11100) == "-55 min"
    assert formatting.kpi_change(KPIS["sla_achievement"], 92.5, 90) == "+2.5 pts"
    assert formatting.kpi_change(KPIS["csat"], 90, 90) == "no change"
    assert formatting.kpi_change(KPIS["csat"], 90, None) == "—"
    assert formatting.kpi_change(KPIS["csat"], None, 90) == "—"


def test_relative_change() -> None:
    assert formatting.relative_change(11100, 7800) == pytest.approx(42.3, abs=0.1)
    assert formatting.relative_change(50, 100) == -50.0
    assert formatting.relative_change(5, 0) is None  # growth from nothing has no ratio
    assert formatting.relative_change(None, 5) is None
    assert formatting.signed_percent(42.3) == "+42 %"
    assert formatting.signed_percent(-8.2) == "-8 %"
    assert formatting.signed_percent(0.2) == "0 %"
    assert formatting.signed_percent(None) == "—"
