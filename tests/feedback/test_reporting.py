"""Survey scores over a period (deskpilot.feedback.reporting and the Customer feedback page):
CSAT on each scale, NPS, CES and response rates, in total and per team, agent, channel and
organization, hand-computed; each figure opens exactly its answers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from deskpilot.accounts.models import Role
from deskpilot.feedback import reporting
from deskpilot.feedback.models import Invitation, InvitationStatus, SurveyResponse
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 10)
NOON = datetime.datetime(2026, 11, 10, 12, tzinfo=datetime.UTC)


def asked(
    kind: str,
    score: int | None,
    *,
    team: Any = None,
    scale: str = "five",
    when: datetime.datetime = NOON,
    channel: str = "email",
) -> Invitation:
    invitation = Invitation.objects.create(
        kind=kind, customer=factories.customer(), team=team, scale=scale, channel=channel,
        status=InvitationStatus.SENT, due_at=when, sent_at=when,
    )  # fmt: skip
    if score is not None:
        SurveyResponse.objects.create(invitation=invitation, score=score)
    return invitation


@pytest.fixture
def teams() -> tuple[Any, Any]:
    red, blue = factories.team(name="Red"), factories.team(name="Blue")
    # Red: CSAT 5, 4 and 2 on 1-5, one unanswered; good/bad good; 1-3 a 2 (bad) -> 3 good of 5.
    for score in (5, 4, 2, None):
        asked("csat", score, team=red)
    asked("csat", 1, team=red, scale="good_bad")
    asked("csat", 2, team=red, scale="three")
    # Blue: NPS 10, 9, 8, 3, 0 -> 2 promoters, 2 detractors of 5: 0; CES 7, 5, 6 -> 6.
    for score in (10, 9, 8, 3, 0):
        asked("nps", score, team=blue, channel="web")
    for score in (7, 5, 6):
        asked("ces", score, team=blue)
    # Outside the period: counted nowhere.
    asked("csat", 1, team=red, when=NOON - datetime.timedelta(days=5))
    return red, blue


def test_the_period_in_total(teams: Any) -> None:
    [total] = reporting.score_table(DAY, DAY)
    assert (total.csat.good, total.csat.bad) == (3, 2)
    assert total.csat.score == 60.0
    assert total.sent == {"csat": 6, "nps": 5, "ces": 3}
    assert total.answered == {"csat": 5, "nps": 5, "ces": 3}
    assert total.response_rate("csat") == pytest.approx(500 / 6)
    assert (total.nps.promoters, total.nps.passives, total.nps.detractors) == (2, 1, 2)
    assert total.nps.score == 0.0
    assert total.ces == 6.0


def test_by_team_and_by_channel(teams: Any) -> None:
    _red, _blue = teams
    rows = {row.label: row for row in reporting.score_table(DAY, DAY, "team")}
    assert rows.keys() == {"Red", "Blue"}
    assert rows["Red"].csat.score == 60.0
    assert rows["Red"].nps.score is None
    assert rows["Blue"].csat.score is None
    assert rows["Blue"].nps.score == 0.0
    assert rows["Blue"].ces == 6.0
    channels = {row.label: row for row in reporting.score_table(DAY, DAY, "channel")}
    assert channels["Web form"].nps.total == 5
    assert channels["Email"].answered["csat"] == 5


def test_each_figure_opens_its_answers(teams: Any) -> None:
    red, _ = teams
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    page = client.get(reverse("feedback_scores:scores"), {"from": DAY.isoformat(), "to": DAY.isoformat()})
    assert page.status_code == 200
    body = page.content.decode()
    assert "60.0 %" in body
    assert 'data-table="feedback"' in body
    answers = client.get(
        reverse("feedback_scores:answers"),
        {"from": DAY.isoformat(), "to": DAY.isoformat(), "kind": "csat", "by": "team", "key": str(red.pk)},
    )
    assert answers.status_code == 200
    assert answers.content.decode().count("data-answer=") == 5
    assert reporting.responses(DAY, DAY, kind="csat", by="team", key=red.pk).count() == 5
    assert reporting.responses(DAY, DAY, kind="nps").count() == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"by": "planet"}, "by"),
    ],
)
def test_bad_filters_are_named(params: dict[str, str], field: str) -> None:
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    page = client.get(reverse("feedback_scores:scores"), params)
    assert page.status_code == 422
    assert f'data-error="{field}"' in page.content.decode()
    bad = client.get(reverse("feedback_scores:answers"), {"kind": "vibes"})
    assert bad.status_code == 422
    assert 'data-error="kind"' in bad.content.decode()


def test_the_api_gives_the_same_scores_and_the_answers(teams: Any) -> None:
    red, _ = teams
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    found = client.get("/api/v1/feedback/scores", {"from": DAY.isoformat(), "to": DAY.isoformat(), "by": "team"})
    assert found.status_code == 200
    items = {item["name"]: item for item in found.json()["items"]}
    assert items["Red"]["csat"] == 60.0
    assert items["Red"]["key"] == red.pk
    assert items["Blue"]["nps"] == 0.0
    assert items["Blue"]["ces"] == 6.0
    assert items["Red"]["sent"]["csat"] == 6
    assert items["Red"]["answered"]["csat"] == 5
    answers = client.get("/api/v1/feedback/answers", {"kind": "nps", "from": DAY.isoformat(), "to": DAY.isoformat()})
    assert sorted(item["score"] for item in answers.json()["items"]) == [0, 3, 8, 9, 10]
    bad = client.get("/api/v1/feedback/scores", {"by": "planet"})
    assert bad.status_code == 422
    assert "by" in bad.content.decode()
    agent = Client()
    agent.force_login(factories.user(Role.AGENT))
    assert agent.get("/api/v1/feedback/scores").status_code == 403
