"""Scorecards (deskpilot.analytics.scorecards): each agent's figures from the rollups, compared
with the team's pooled figure (volumes with the team's per member), judged by the targets."""

from __future__ import annotations

import datetime

import pytest

from deskpilot.accounts.models import User
from deskpilot.analytics import performance, scorecards, targets
from deskpilot.analytics.performance import Filters
from tests.analytics.scenarios import MON, mixed_history

pytestmark = pytest.mark.django_db

WEEK = Filters(start=MON.date(), end=(MON + datetime.timedelta(days=6)).date(), hours="calendar")


def test_agents_against_their_team() -> None:
    tickets = mixed_history(3)
    team = tickets[0].team
    assert team is not None
    cards = scorecards.agents(WEEK, team)
    team_report = performance.performance(Filters(WEEK.start, WEEK.end, team=team.pk, hours="calendar"))
    solved = {s.kpi.key: s for s in cards.reference.scores}["solved"]
    assert solved.value == team_report.values["solved"]
    members = User.objects.filter(teams=team).count()
    team_solved = team_report.values["solved"]
    assert team_solved is not None
    for card in cards.cards:
        agent = User.objects.get(name=card.name)
        own = performance.performance(Filters(WEEK.start, WEEK.end, agent=agent.pk, hours="calendar"))
        scores = {s.kpi.key: s for s in card.scores}
        assert scores["solved"].value == own.values["solved"]
        # Volume against the team's per member; a median against the team's median.
        assert scores["solved"].reference == pytest.approx(team_solved / members)
        median = scores["first_reply_median_calendar"]
        assert median.reference == team_report.values["first_reply_median_calendar"]
        if median.value is not None and median.reference is not None and median.value != median.reference:
            assert median.better == (median.value < median.reference)


def test_teams_against_the_desk_and_their_targets() -> None:
    tickets = mixed_history(3)
    team = tickets[0].team
    assert team is not None
    # A floor every rate meets, with no at-risk band: on track whatever the figure.
    targets.create_target(kpi="one_touch_rate", threshold=0, at_risk_band=0, team=team)
    cards = scorecards.teams(WEEK, targets.load())
    assert cards.reference_name == "Whole desk"
    by_name = {card.name: card for card in cards.cards}
    one_touch = {s.kpi.key: s for s in by_name[team.name].scores}["one_touch_rate"]
    assert one_touch.status is not None
    assert one_touch.status.state.value == "on_track"
    other = next(card for name, card in by_name.items() if name != team.name)
    assert {s.kpi.key: s for s in other.scores}["one_touch_rate"].status is None
    table = cards.table()
    assert [row[0].value for row in table.rows] == [*sorted(by_name), "Whole desk"]
