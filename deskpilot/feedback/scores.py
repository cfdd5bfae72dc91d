"""Survey scores exactly as DOMAIN.md defines them (pure functions over plain values).

- CSAT: good / (good + bad) x 100, unrated excluded. On 1-5, 4-5 are good and 1-3 bad; on 1-3,
  3 is good and 1-2 bad; on good/bad (stored 1 and 0), good is good.
- NPS: % promoters (9-10) - % detractors (0-6), from -100 to +100; passives (7-8) count in the
  total only.
- CES: the mean of the 1-7 answers.
- Response rate: answered invitations / sent invitations x 100.

A *negative* answer (one that can open a follow-up): CSAT bad, an NPS detractor, CES 1-3.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

GOOD_BAD = "good_bad"
THREE = "three"
FIVE = "five"


def csat_good(scale: str, score: int) -> bool:
    """Whether a CSAT answer on ``scale`` counts as good."""
    if scale == GOOD_BAD:
        return score >= 1
    if scale == THREE:
        return score >= 3
    return score >= 4


def nps_group(score: int) -> str:
    """ "promoter" (9-10), "passive" (7-8) or "detractor" (0-6)."""
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def is_negative(kind: str, scale: str, score: int) -> bool:
    if kind == "csat":
        return not csat_good(scale, score)
    if kind == "nps":
        return nps_group(score) == "detractor"
    return score <= 3  # CES: disagreeing that it was easy


@dataclass(frozen=True)
class Csat:
    good: int
    bad: int

    @property
    def score(self) -> float | None:
        rated = self.good + self.bad
        return 100 * self.good / rated if rated else None


@dataclass(frozen=True)
class Nps:
    promoters: int
    passives: int
    detractors: int

    @property
    def total(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        if not self.total:
            return None
        return 100 * (self.promoters - self.detractors) / self.total


def csat(answers: Iterable[tuple[str, int]]) -> Csat:
    """CSAT of (scale, score) answers."""
    good = bad = 0
    for scale, score in answers:
        if csat_good(scale, score):
            good += 1
        else:
            bad += 1
    return Csat(good, bad)


def nps(scores: Iterable[int]) -> Nps:
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        counts[nps_group(score)] += 1
    return Nps(counts["promoter"], counts["passive"], counts["detractor"])


def ces(scores: Iterable[int]) -> float | None:
    values = list(scores)
    return sum(values) / len(values) if values else None


def response_rate(sent: int, answered: int) -> float | None:
    return 100 * answered / sent if sent else None
