"""The key performance indicators a manager reads, sets targets on and compares: what each one
is, its unit, which way is better, and its value over a period of daily rollups.

One catalogue for every place a KPI appears (the performance page, scorecards, targets, the
executive PDF, scheduled reports), so a figure is computed one way only. Definitions:

- created / solved: tickets created in the period; tickets whose latest solve falls in it.
- backlog: unsolved tickets at the end of the period (created, and not solved by then).
- first reply / resolution (mean, median, p90): first_reply_time of the tickets created in the
  period, full_resolution_time of the tickets solved in it (DOMAIN.md), in business or calendar
  seconds; medians and p90s from the rollups' histogram buckets.
- SLA achievement: target instances met / (met + breached), of the tickets created in the
  period; running instances are not decided yet and count in neither.
- reopen rate: solved tickets reopened at least once / solved tickets.
- one-touch rate, first-contact resolution rate: of the solved tickets.
- escalation rate: tickets created in the period escalated at least once / created.
- CSAT: good / (good + bad) of the solved tickets rated (DOMAIN.md).

Rates are percentages (0-100). A value is None when its denominator is zero (no data), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from deskpilot.analytics.rollups import Day


class Unit(StrEnum):
    COUNT = "count"
    SECONDS = "seconds"
    PERCENT = "percent"


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: Unit
    # True: a higher value is better; False: lower is better; None: neither (volume).
    higher_is_better: bool | None
    # What the drill-down lists for this KPI (analytics.drilldown measures).
    measure: str
    help: str = ""
    # The label where the hours are said once for the whole page (tiles, column headers).
    short: str = ""

    @property
    def short_label(self) -> str:
        return self.short or self.label


# Time metrics of the rollups behind the time KPIs: (KPI stem, label, record metric, measure).
_TIMES = (
    ("first_reply", "First reply", "first_reply_time", "first_reply"),
    ("resolution", "Resolution", "full_resolution_time", "resolution"),
)
_STATS = (("mean", "mean", "mean"), ("median", "median", "median"), ("p90", "90th percentile", "p90"))


def _catalogue() -> dict[str, Kpi]:
    kpis = [
        Kpi("created", "Created", Unit.COUNT, None, "created", "tickets created in the period"),
        Kpi("solved", "Solved", Unit.COUNT, True, "solved", "tickets whose latest solve is in the period"),
        Kpi("backlog", "Backlog", Unit.COUNT, False, "backlog", "unsolved tickets at the end of the period"),
    ]
    for stem, label, _, measure in _TIMES:
        for hours in ("business", "calendar"):
            for stat, stat_label, stat_short in _STATS:
                kpis.append(
                    Kpi(
                        f"{stem}_{stat}_{hours}",
                        f"{label} {stat_label} ({hours} hours)",
                        Unit.SECONDS,
                        False,
                        measure,
                        short=f"{label} {stat_short}",
                    )
                )
    kpis += [
        Kpi("sla_achievement", "SLA achievement", Unit.PERCENT, True, "sla_breached", "targets met / decided"),
        Kpi("reopen_rate", "Reopen rate", Unit.PERCENT, False, "reopened", "solved tickets reopened at least once"),
        Kpi("one_touch_rate", "One-touch rate", Unit.PERCENT, True, "one_touch", "solved with at most one reply"),
        Kpi("fcr_rate", "First-contact resolution", Unit.PERCENT, True, "fcr", "solved without a second message"),
        Kpi("escalation_rate", "Escalation rate", Unit.PERCENT, False, "escalated", "created tickets escalated"),
        Kpi("csat", "CSAT", Unit.PERCENT, True, "csat_bad", "good / (good + bad) of the rated solved tickets"),
    ]
    return {kpi.key: kpi for kpi in kpis}


KPIS: dict[str, Kpi] = _catalogue()


def time_kpi(stem: str, stat: str, hours: str) -> str:
    """The key of a time KPI: ``time_kpi("first_reply", "p90", "business")``."""
    return f"{stem}_{stat}_{hours}"


def _rate(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def values(total: Day, backlog: int | None = None) -> dict[str, float | None]:
    """Every KPI's value over a period (``total``: its days added up, ``rollups.period_total``)
    and the backlog at its end (None: not known)."""
    counts = total.counts
    found: dict[str, float | None] = {
        "created": counts["created"],
        "solved": counts["solved"],
        "backlog": backlog,
        "sla_achievement": _rate(counts["sla_met"], counts["sla_met"] + counts["sla_breached"]),
        "reopen_rate": _rate(counts["reopened"], counts["solved"]),
        "one_touch_rate": _rate(counts["one_touch"], counts["solved"]),
        "fcr_rate": _rate(counts["fcr"], counts["solved"]),
        "escalation_rate": _rate(counts["escalated"], counts["created"]),
        "csat": _rate(counts["csat_good"], counts["csat_good"] + counts["csat_bad"]),
    }
    for stem, _, metric, _ in _TIMES:
        for hours, name in (("business", f"{metric}_business"), ("calendar", metric)):
            mean, median, p90 = total.stats(name)
            found[time_kpi(stem, "mean", hours)] = mean
            found[time_kpi(stem, "median", hours)] = median
            found[time_kpi(stem, "p90", hours)] = p90
    return found


def sla_rate(counts: Mapping[str, int], metric: str) -> float | None:
    """% met of one SLA target (``first_reply``...) from a day's or period's counts."""
    met, breached = counts[f"sla_{metric}_met"], counts[f"sla_{metric}_breached"]
    return _rate(met, met + breached)


def change(value: float | None, previous: float | None) -> float | None:
    """The change from the previous period, in the KPI's own unit (points for percentages)."""
    if value is None or previous is None:
        return None
    return value - previous


def is_better(kpi: Kpi, value: float | None, previous: float | None) -> bool | None:
    """Whether ``value`` is an improvement on ``previous`` (None: no direction, no data or equal)."""
    delta = change(value, previous)
    if kpi.higher_is_better is None or delta is None or delta == 0:
        return None
    return (delta > 0) == kpi.higher_is_better
