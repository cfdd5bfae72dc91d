"""Score formulas (deskpilot.feedback.scores) on hand-computed examples from DOMAIN.md."""

from __future__ import annotations

import pytest

from deskpilot.feedback import scores


def test_csat_is_good_over_rated_with_each_scales_good_answers() -> None:
    # 1-5: 4 and 5 are good. Three good of four rated: 75 %.
    assert scores.csat([("five", 5), ("five", 4), ("five", 3), ("five", 4)]).score == 75.0
    # 1-3: only 3 is good.
    assert scores.csat([("three", 3), ("three", 2)]).score == 50.0
    # good/bad, stored 1/0.
    assert scores.csat([("good_bad", 1), ("good_bad", 1), ("good_bad", 0)]).score == pytest.approx(200 / 3)
    assert scores.csat([]).score is None


def test_nps_is_promoters_minus_detractors() -> None:
    # DOMAIN.md: 30 % promoters and 20 % detractors give +10.
    answers = [10] * 3 + [8] * 5 + [3] * 2
    result = scores.nps(answers)
    assert (result.promoters, result.passives, result.detractors) == (3, 5, 2)
    assert result.score == pytest.approx(10.0)
    assert scores.nps([0, 6]).score == -100.0
    assert scores.nps([9, 10]).score == 100.0
    assert scores.nps([7, 8]).score == 0.0
    assert scores.nps([]).score is None


@pytest.mark.parametrize(
    ("score", "group"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_nps_groups_at_their_edges(score: int, group: str) -> None:
    assert scores.nps_group(score) == group


def test_ces_is_the_mean_and_the_response_rate_a_share_of_sent() -> None:
    assert scores.ces([7, 5, 6]) == 6.0
    assert scores.ces([]) is None
    assert scores.response_rate(40, 10) == 25.0
    assert scores.response_rate(0, 0) is None


@pytest.mark.parametrize(
    ("kind", "scale", "score", "negative"),
    [
        ("csat", "five", 3, True),
        ("csat", "five", 4, False),
        ("csat", "three", 2, True),
        ("csat", "three", 3, False),
        ("csat", "good_bad", 0, True),
        ("csat", "good_bad", 1, False),
        ("nps", "five", 6, True),
        ("nps", "five", 7, False),
        ("ces", "five", 3, True),
        ("ces", "five", 4, False),
    ],
)
def test_negative_answers(kind: str, scale: str, score: int, negative: bool) -> None:
    assert scores.is_negative(kind, scale, score) is negative
