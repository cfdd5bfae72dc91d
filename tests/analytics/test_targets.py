"""KPI targets (analytics.targets and models.KpiTarget): what may be set, how a figure is judged
on track / at risk / missed in each unit and direction, which target applies to an agent, a team
or the desk, and that the book of targets is read in one query."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.analytics import targets
from deskpilot.analytics.kpis import KPIS
from deskpilot.analytics.models import KpiTarget, TargetDirection
from deskpilot.analytics.targets import TargetState
from deskpilot.core.errors import InvalidInput
from tests import factories

HOUR = 3600


def _target(kpi: str, threshold: float, band: float, direction: str | None = None) -> KpiTarget:
    """An unsaved target, for the pure rules."""
    found = direction or (TargetDirection.AT_LEAST if KPIS[kpi].higher_is_better else TargetDirection.AT_MOST)
    return KpiTarget(kpi=kpi, threshold=threshold, at_risk_band=band, direction=found)


# --- judging: hand-computed per unit and direction ----------------------------------------------

# first reply p90 at most 4 h, band 24 min: at risk from 3 h 36 min (12960 s) to 4 h (14400 s).
FIRST_REPLY = ("first_reply_p90_business", 4 * HOUR, 24 * 60)


@pytest.mark.parametrize(
    ("value", "state"),
    [
        (0, TargetState.ON_TRACK),
        (12959, TargetState.ON_TRACK),  # a second before the band
        (12960, TargetState.AT_RISK),  # the band's edge is at risk
        (14399, TargetState.AT_RISK),
        (14400, TargetState.AT_RISK),  # equal to the threshold passes
        (14401, TargetState.MISSED),
        (90000, TargetState.MISSED),
    ],
)
def test_a_time_target_at_most(value: float, state: TargetState) -> None:
    assert targets.judge(_target(*FIRST_REPLY), value) == state


@pytest.mark.parametrize(
    ("value", "state"),
    [
        (100, TargetState.ON_TRACK),
        (97.01, TargetState.ON_TRACK),
        (97, TargetState.AT_RISK),  # 95 + 2 points, the edge
        (95.5, TargetState.AT_RISK),
        (95, TargetState.AT_RISK),  # equal passes
        (94.99, TargetState.MISSED),
        (0, TargetState.MISSED),
    ],
)
def test_a_percent_target_at_least(value: float, state: TargetState) -> None:
    """SLA achievement at least 95 %, at risk up to 97 %."""
    assert targets.judge(_target("sla_achievement", 95, 2), value) == state


@pytest.mark.parametrize(
    ("value", "state"),
    [(2, TargetState.ON_TRACK), (2.99, TargetState.ON_TRACK), (3, TargetState.AT_RISK), (5, TargetState.AT_RISK),
     (5.01, TargetState.MISSED)],
)  # fmt: skip
def test_a_percent_target_at_most(value: float, state: TargetState) -> None:
    """Reopen rate at most 5 %, band 2 points: at risk from 3 %."""
    assert targets.judge(_target("reopen_rate", 5, 2), value) == state


@pytest.mark.parametrize(
    ("kpi", "threshold", "band", "direction", "value", "state"),
    [
        # backlog at most 200, band 20: at risk from 180
        ("backlog", 200, 20, None, 179, TargetState.ON_TRACK),
        ("backlog", 200, 20, None, 180, TargetState.AT_RISK),
        ("backlog", 200, 20, None, 201, TargetState.MISSED),
        # solved at least 100, band 10: at risk up to 110
        ("solved", 100, 10, None, 111, TargetState.ON_TRACK),
        ("solved", 100, 10, None, 110, TargetState.AT_RISK),
        ("solved", 100, 10, None, 99, TargetState.MISSED),
        # created has no better side: the manager's direction decides
        ("created", 500, 50, TargetDirection.AT_MOST, 449, TargetState.ON_TRACK),
        ("created", 500, 50, TargetDirection.AT_MOST, 501, TargetState.MISSED),
        ("created", 500, 50, TargetDirection.AT_LEAST, 449, TargetState.MISSED),
        ("created", 500, 50, TargetDirection.AT_LEAST, 551, TargetState.ON_TRACK),
    ],
)
def test_a_count_target(
    kpi: str, threshold: float, band: float, direction: str | None, value: float, state: TargetState
) -> None:
    assert targets.judge(_target(kpi, threshold, band, direction), value) == state


def test_a_zero_band_means_never_at_risk() -> None:
    target = _target("csat", 90, 0)
    assert targets.judge(target, 90) == TargetState.ON_TRACK
    assert targets.judge(target, 89.9) == TargetState.MISSED


def test_status_labels_and_descriptions() -> None:
    target = _target(*FIRST_REPLY)
    status = targets.TargetStatus(state=TargetState.AT_RISK, target=target, value=13000)
    assert status.label == "At risk"
    assert status.description == "Target: at most 4 h (business) — at risk from 3 h 36 min"
    assert targets.TargetStatus(TargetState.ON_TRACK, target, 1).label == "On track"
    assert targets.TargetStatus(TargetState.MISSED, target, 1).label == "Missed"
    assert targets.describe(_target("sla_achievement", 95, 2)) == "Target: at least 95 % — at risk up to 97 %"
    assert targets.describe(_target("csat", 92.5, 0)) == "Target: at least 92.5 %"
    assert targets.describe(_target("resolution_median_calendar", 90 * 60, 9 * 60)) == (
        "Target: at most 1 h 30 min (calendar) — at risk from 1 h 21 min"
    )
    assert targets.describe(_target("backlog", 10, 20)) == "Target: at most 10 — at risk from 0"


# --- reading and showing amounts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bare", "seconds"),
    [
        ("4h", None, 4 * HOUR),
        ("90m", None, 90 * 60),
        ("1h 30m", None, 90 * 60),
        ("1 h 30 min", None, 90 * 60),
        ("1.5 hours", None, 90 * 60),
        ("1,5h", None, 90 * 60),
        ("45s", None, 45),
        ("2H", None, 2 * HOUR),
        ("4", "hours", 4 * HOUR),
        ("90", "minutes", 90 * 60),
        ("0", None, 0),
    ],
)
def test_durations_are_read_in_seconds(text: str, bare: str | None, seconds: float) -> None:
    assert targets.parse_amount("first_reply_p90_business", text, bare_unit=bare) == seconds


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is required"),
        ("soon", "is not a duration"),
        ("4 weeks", "'weeks' is not a unit"),
        ("4", "say the unit of 4"),
        ("-4h", "is not a duration"),
    ],
)
def test_bad_durations_name_the_field(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as error:
        targets.parse_amount("resolution_p90_business", text, field="at_risk_band")
    assert problem in error.value.errors["at_risk_band"]


def test_percentages_and_counts_are_read() -> None:
    assert targets.parse_amount("csat", "95 %") == 95
    assert targets.parse_amount("csat", "97,5") == 97.5
    assert targets.parse_amount("backlog", "250") == 250
    with pytest.raises(InvalidInput, match="threshold: 'lots' is not a percentage"):
        targets.parse_amount("csat", "lots")
    with pytest.raises(InvalidInput, match="not a whole number"):
        targets.parse_amount("backlog", "2.5")
    with pytest.raises(InvalidInput, match="kpi: 'speed' is not a KPI"):
        targets.parse_amount("speed", "1")


def test_values_are_shown_in_human_units() -> None:
    assert targets.format_value("first_reply_p90_business", 4 * HOUR) == "4 h"
    assert targets.format_value("first_reply_p90_business", 12960) == "3 h 36 min"
    assert targets.format_value("first_reply_mean_calendar", 90) == "1 min 30 s"
    assert targets.format_value("first_reply_mean_calendar", 0) == "0 s"
    # Shown as the figures beside it are, and typed back as shown.
    for seconds in (3 * HOUR + 5 * 60, 2 * 86400 + 30, 86400 + 2 * HOUR + 5 * 60 + 30):
        shown = targets.format_value("resolution_p90_business", seconds)
        assert targets.parse_amount("resolution_p90_business", shown) == seconds, shown
    assert targets.format_value("resolution_p90_business", 3 * HOUR + 5 * 60) == "3 h 05 min"
    assert targets.format_value("csat", 95.0) == "95 %"
    assert targets.format_value("csat", 97.25) == "97.25 %"
    assert targets.format_value("created", 1200) == "1200"


@pytest.mark.parametrize(
    ("kpi", "value"),
    [
        ("first_reply_p90_business", 4 * HOUR),
        ("first_reply_p90_business", 12960),
        ("resolution_mean_calendar", 90061),
        ("first_reply_median_business", 45),
        ("csat", 92.5),
        ("sla_achievement", 97.25),
        ("backlog", 1200),
    ],
)
def test_what_is_shown_reads_back_unchanged(kpi: str, value: float) -> None:
    """The edit form shows amounts as the list does; saving it untouched changes nothing."""
    assert targets.parse_amount(kpi, targets.format_value(kpi, value)) == value


@pytest.mark.parametrize(
    ("kpi", "threshold", "direction", "band"),
    [
        ("first_reply_p90_business", 4 * HOUR, TargetDirection.AT_MOST, 24 * 60),  # a tenth
        ("sla_achievement", 95, TargetDirection.AT_LEAST, 2),  # two points
        ("sla_achievement", 99, TargetDirection.AT_LEAST, 1),  # only 1 point left below 100
        ("reopen_rate", 1, TargetDirection.AT_MOST, 1),  # only 1 point left above 0
        ("solved", 95, TargetDirection.AT_LEAST, 10),  # a tenth, rounded up
        ("backlog", 0, TargetDirection.AT_MOST, 0),
    ],
)
def test_default_bands(kpi: str, threshold: float, direction: str, band: float) -> None:
    assert targets.default_band(kpi, threshold, direction) == band


# --- the book: which target applies, in one query -----------------------------------------------


@pytest.mark.django_db
def test_the_agents_target_else_the_teams_else_the_desks() -> None:
    agent, other = factories.user(Role.AGENT), factories.user(Role.AGENT)
    team, other_team = factories.team(members=[agent]), factories.team()
    kpi = "first_reply_p90_business"
    desk = targets.create_target(kpi=kpi, threshold=4 * HOUR)
    team_target = targets.create_target(kpi=kpi, threshold=3 * HOUR, team=team)
    own = targets.create_target(kpi=kpi, threshold=2 * HOUR, agent=agent)
    book = targets.load()
    assert book.target_for(kpi, team_id=team.pk, agent_id=agent.pk) == own
    assert book.target_for(kpi, agent_id=agent.pk) == own
    assert book.target_for(kpi, team_id=team.pk, agent_id=other.pk) == team_target
    assert book.target_for(kpi, team_id=team.pk) == team_target
    assert book.target_for(kpi, team_id=other_team.pk, agent_id=other.pk) == desk
    assert book.target_for(kpi) == desk
    assert book.target_for("csat", team_id=team.pk) is None
    assert len(book) == 3
    assert set(book) == {desk, team_target, own}


@pytest.mark.django_db
def test_status_judges_with_the_target_that_applies() -> None:
    team = factories.team()
    targets.create_target(kpi="csat", threshold=90)  # band 2 by default
    targets.create_target(kpi="csat", threshold=80, team=team, at_risk_band=0)
    book = targets.load()
    desk_status = book.status("csat", 91)
    assert desk_status is not None
    assert (desk_status.state, desk_status.value, desk_status.target.team_id) == (TargetState.AT_RISK, 91, None)
    team_status = book.status("csat", 85, team_id=team.pk)
    assert team_status is not None
    assert team_status.state == TargetState.ON_TRACK
    assert book.status("csat", None) is None  # no data
    assert book.status("reopen_rate", 3) is None  # no target


@pytest.mark.django_db
def test_load_is_one_query_however_many_targets() -> None:
    teams = [factories.team() for _ in range(3)]
    agents = [factories.user(Role.AGENT) for _ in range(3)]
    for team, agent in zip(teams, agents, strict=True):
        targets.create_target(kpi="csat", threshold=90, team=team)
        targets.create_target(kpi="csat", threshold=90, agent=agent)
    targets.create_target(kpi="csat", threshold=90)
    with CaptureQueriesContext(connection) as queries:
        book = targets.load()
        labels = [targets.scope_label(t) for t in book]
        for agent in agents:
            book.status("csat", 50, agent_id=agent.pk)
    assert len(queries) == 1
    assert "Whole desk" in labels
    assert f"Team: {teams[0].name}" in labels
    assert f"Agent: {agents[0].name}" in labels


# --- the actions: what may be set --------------------------------------------------------------


@pytest.mark.django_db
def test_create_takes_the_direction_from_the_kpi_and_a_default_band() -> None:
    manager = factories.user(Role.MANAGER)
    target = targets.create_target(
        kpi="first_reply_p90_business", threshold=4 * HOUR, notes="  Board goal  ", created_by=manager
    )
    target.refresh_from_db()
    assert (target.direction, target.at_risk_band, target.notes) == (TargetDirection.AT_MOST, 24 * 60, "Board goal")
    assert target.created_by == manager
    assert target.created_at is not None
    sla = targets.create_target(kpi="sla_achievement", threshold=95, direction=TargetDirection.AT_LEAST)
    assert sla.direction == TargetDirection.AT_LEAST


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"kpi": "speed"}, "kpi", "is not a KPI"),
        ({"direction": TargetDirection.AT_LEAST}, "direction", "lower is better, so its target is at most"),
        ({"threshold": 0}, "threshold", "must be longer than zero"),
        ({"threshold": -1}, "threshold", "0 or more"),
        ({"threshold": float("nan")}, "threshold", "0 or more"),
        ({"threshold": 366 * 24 * HOUR}, "threshold", "at most 8760 h"),
        ({"at_risk_band": -5}, "at_risk_band", "0 or more"),
        ({"at_risk_band": 5 * HOUR}, "at_risk_band", "must be at most 4 h"),
        ({"notes": "x" * 2001}, "notes", "at most 2000 characters"),
    ],
)
def test_create_refuses_with_the_field_named(changes: dict[str, object], field: str, problem: str) -> None:
    values: dict[str, object] = {"kpi": "first_reply_p90_business", "threshold": 4 * HOUR, **changes}
    with pytest.raises(InvalidInput) as error:
        targets.create_target(**values)  # type: ignore[arg-type]
    assert problem in error.value.errors[field]
    assert not KpiTarget.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kpi", "threshold", "band", "problem"),
    [
        ("csat", 101, None, "at most 100"),
        ("csat", 95, 6, "must be at most 5 %"),
        ("backlog", 10.5, None, "whole number"),
        ("solved", 10, 1.5, "whole number"),
    ],
)
def test_ranges_per_unit(kpi: str, threshold: float, band: float | None, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        targets.create_target(kpi=kpi, threshold=threshold, at_risk_band=band)


@pytest.mark.django_db
def test_created_needs_the_managers_direction() -> None:
    with pytest.raises(InvalidInput) as error:
        targets.create_target(kpi="created", threshold=500)
    assert "choose at least or at most" in error.value.errors["direction"]
    target = targets.create_target(kpi="created", threshold=500, direction=TargetDirection.AT_MOST)
    assert (target.direction, target.at_risk_band) == (TargetDirection.AT_MOST, 50)


@pytest.mark.django_db
def test_scope_rules() -> None:
    agent, customer, gone = factories.user(Role.AGENT), factories.customer_user(), factories.user(Role.AGENT)
    gone.is_active = False
    gone.save()
    team = factories.team()
    with pytest.raises(InvalidInput, match="agent: a target is for the whole desk, one team or one agent"):
        targets.create_target(kpi="csat", threshold=90, team=team, agent=agent)
    with pytest.raises(InvalidInput, match="is not an agent"):
        targets.create_target(kpi="csat", threshold=90, agent=customer)
    with pytest.raises(InvalidInput, match="is deactivated"):
        targets.create_target(kpi="csat", threshold=90, agent=gone)
    manager = factories.user(Role.MANAGER)
    assert targets.create_target(kpi="csat", threshold=90, agent=manager).agent == manager


@pytest.mark.django_db
def test_one_target_per_kpi_and_scope() -> None:
    agent, team = factories.user(Role.AGENT), factories.team()
    for scope in ({}, {"team": team}, {"agent": agent}):
        targets.create_target(kpi="csat", threshold=90, **scope)
        with pytest.raises(InvalidInput, match="kpi: there is already a CSAT target for"):
            targets.create_target(kpi="csat", threshold=80, **scope)
    # Another KPI in the same scope, another team for the same KPI: fine.
    targets.create_target(kpi="fcr_rate", threshold=60)
    targets.create_target(kpi="csat", threshold=90, team=factories.team())
    assert KpiTarget.objects.count() == 5


@pytest.mark.django_db
def test_update_replaces_the_target_and_keeps_its_uniqueness() -> None:
    team = factories.team()
    desk = targets.create_target(kpi="csat", threshold=90)
    team_target = targets.create_target(kpi="csat", threshold=85, team=team)
    updated = targets.update_target(team_target, kpi="csat", threshold=88, team=team, at_risk_band=1, notes="Q3")
    updated.refresh_from_db()
    assert (updated.threshold, updated.at_risk_band, updated.notes) == (88, 1, "Q3")
    assert updated.updated_at >= updated.created_at
    with pytest.raises(InvalidInput, match="already a CSAT target for the whole desk"):
        targets.update_target(team_target, kpi="csat", threshold=88)
    # Saving a target unchanged is not a clash with itself.
    targets.update_target(desk, kpi="csat", threshold=90, at_risk_band=2)
    targets.delete_target(desk)
    assert list(KpiTarget.objects.all()) == [team_target]


@pytest.mark.django_db
def test_a_deactivated_agent_keeps_an_editable_target() -> None:
    agent = factories.user(Role.AGENT)
    target = targets.create_target(kpi="csat", threshold=90, agent=agent)
    agent.is_active = False
    agent.save()
    assert targets.update_target(target, kpi="csat", threshold=91, agent=agent).threshold == 91


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_what_the_actions_refuse() -> None:
    """The constraints hold for writes that skip the actions (admin, shell, a race)."""
    agent, team = factories.user(Role.AGENT), factories.team()
    KpiTarget.objects.create(kpi="csat", threshold=90, direction=TargetDirection.AT_LEAST)
    KpiTarget.objects.create(kpi="csat", threshold=90, direction=TargetDirection.AT_LEAST, team=team)
    KpiTarget.objects.create(kpi="csat", threshold=90, direction=TargetDirection.AT_LEAST, agent=agent)
    refused: list[dict[str, object]] = [
        {},  # a second desk-wide target
        {"team": team},
        {"agent": agent},
        {"kpi": "fcr_rate", "team": factories.team(), "agent": factories.user(Role.AGENT)},
        {"kpi": "fcr_rate", "threshold": -1},
        {"kpi": "fcr_rate", "at_risk_band": -1},
        {"kpi": "fcr_rate", "direction": "sideways"},
    ]
    for changes in refused:
        fields: dict[str, object] = {"kpi": "csat", "threshold": 90, "direction": TargetDirection.AT_LEAST, **changes}
        with pytest.raises(IntegrityError), transaction.atomic():
            KpiTarget.objects.create(**fields)
    assert KpiTarget.objects.count() == 3


@pytest.mark.django_db
def test_a_team_or_agent_deleted_takes_its_targets_along() -> None:
    agent, team = factories.user(Role.AGENT), factories.team()
    targets.create_target(kpi="csat", threshold=90, team=team)
    targets.create_target(kpi="csat", threshold=90, agent=agent)
    team.delete()
    agent.delete()
    assert not KpiTarget.objects.exists()


# --- the badge ---------------------------------------------------------------------------------


def test_target_badge_renders_the_state_with_the_target_as_title() -> None:
    page = Template("{% load analytics_targets %}[{% target_badge status %}]")
    target = _target(*FIRST_REPLY)
    status = targets.TargetStatus(state=TargetState.MISSED, target=target, value=20000)
    assert page.render(Context({"status": status})) == (
        '[<span class="target-badge target-missed" '
        'title="Target: at most 4 h (business) — at risk from 3 h 36 min">Missed</span>]'
    )
    assert page.render(Context({"status": None})) == "[]"
    assert page.render(Context({})) == "[]"
