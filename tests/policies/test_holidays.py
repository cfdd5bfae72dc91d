"""Public holidays from the holidays package, validated and merged with a calendar's own dates."""

from __future__ import annotations

from datetime import date

import pytest

from deskpilot.policies.holidays import UnknownRegion, holiday_dates, subdivisions, validate_region


def test_us_federal_holidays_2025() -> None:
    dates = holiday_dates("US", years=[2025])
    assert len(dates) == 11
    assert {date(2025, 1, 1), date(2025, 1, 20), date(2025, 2, 17), date(2025, 12, 25)} <= dates
    assert all(d.year == 2025 for d in dates)


def test_bavaria_2025_has_twelve() -> None:
    dates = holiday_dates("DE", "BY", years=[2025])
    assert len(dates) == 12
    assert date(2025, 1, 6) in dates  # Epiphany: Bavaria, not Germany as a whole
    assert date(2025, 1, 6) not in holiday_dates("DE", years=[2025])


def test_codes_are_normalised() -> None:
    assert validate_region(" de ", "by") == ("DE", "BY")
    assert holiday_dates("de", "by", years=[2025]) == holiday_dates("DE", "BY", years=[2025])


def test_several_years_and_custom_dates_merge() -> None:
    company_day = date(2025, 8, 15)
    dates = holiday_dates("US", years=range(2025, 2027), custom=[company_day, date(2025, 1, 1)])
    # 2026: July 4th is a Saturday, so Friday July 3rd is observed too.
    assert len(dates) == 11 + 12 + 1
    assert date(2026, 7, 3) in dates
    assert company_day in dates
    assert holiday_dates("", years=[2025], custom=[company_day]) == {company_day}


def test_unknown_country() -> None:
    with pytest.raises(UnknownRegion, match="unknown holiday country 'XX'") as caught:
        holiday_dates("XX", years=[2025])
    assert caught.value.field == "holiday_country"


def test_unknown_subdivision() -> None:
    with pytest.raises(UnknownRegion, match="unknown subdivision 'ZZ' for DE") as caught:
        holiday_dates("DE", "ZZ", years=[2025])
    assert caught.value.field == "holiday_subdivision"
    with pytest.raises(UnknownRegion, match="without a country") as caught:
        validate_region("", "BY")
    assert caught.value.field == "holiday_subdivision"


def test_subdivisions() -> None:
    assert "BY" in subdivisions("de")
    assert subdivisions("XX") == ()
