"""Public holidays for business-hours calendars, from the ``holidays`` package (python-holidays).

Pure: no Django. A calendar names a country (ISO 3166-1 alpha-2, e.g. "US", "DE") and optionally a
subdivision ("CA", "BY"); the package's public holidays for the years asked for are merged with the
calendar's own dates. Country and subdivision codes are validated up front against the package's
list, so a typo is reported with the code and the field, never as the package's NotImplementedError.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache

import holidays as python_holidays

__all__ = ["UnknownRegion", "holiday_dates", "subdivisions", "validate_region"]


class UnknownRegion(ValueError):
    """A country or subdivision code the ``holidays`` package does not know. ``field`` is
    "holiday_country" or "holiday_subdivision", so callers can point at the right input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@cache
def _supported() -> dict[str, tuple[str, ...]]:
    return {country: tuple(subdivs) for country, subdivs in python_holidays.list_supported_countries().items()}


def subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes the package knows for ``country`` (empty for an unknown country)."""
    return _supported().get(country.strip().upper(), ())


def validate_region(country: str, subdivision: str = "") -> tuple[str, str]:
    """The normalised (country, subdivision) codes; UnknownRegion naming the code otherwise.
    An empty country means "no public holidays" and allows no subdivision."""
    country = country.strip().upper()
    subdivision = subdivision.strip()
    if not country:
        if subdivision:
            raise UnknownRegion("holiday_subdivision", f"subdivision {subdivision!r} given without a country")
        return "", ""
    supported = _supported()
    if country not in supported:
        raise UnknownRegion("holiday_country", f"unknown holiday country {country!r} (use an ISO code such as 'US')")
    if subdivision:
        known = {code.upper(): code for code in supported[country]}
        if subdivision.upper() not in known:
            raise UnknownRegion(
                "holiday_subdivision",
                f"unknown subdivision {subdivision!r} for {country} (known: {', '.join(supported[country]) or 'none'})",
            )
        subdivision = known[subdivision.upper()]
    return country, subdivision


@cache
def _package_dates(country: str, subdivision: str, years: tuple[int, ...]) -> frozenset[date]:
    found = python_holidays.country_holidays(country, subdiv=subdivision or None, years=years)
    return frozenset(found.keys())


def holiday_dates(
    country: str, subdivision: str = "", *, years: Iterable[int], custom: Iterable[date] = ()
) -> frozenset[date]:
    """Public holidays of ``country``/``subdivision`` in ``years`` (the package's default category:
    public holidays, observed days included), merged with the ``custom`` dates."""
    country, subdivision = validate_region(country, subdivision)
    found = _package_dates(country, subdivision, tuple(sorted(set(years)))) if country else frozenset()
    return found | frozenset(custom)
