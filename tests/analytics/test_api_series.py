"""/api/v1/metrics/performance, /breakdown, /scorecards and /operations: the dashboards' series
for BI tools, equal to what the pages show, with bad parameters named."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.analytics import performance, performance_tables
from deskpilot.analytics.api import BREAKDOWN_COLUMNS, SERIES_COLUMNS
from deskpilot.analytics.performance import Filters
from deskpilot.tickets.models import UNSOLVED, Ticket
from tests.analytics.scenarios import MON, mixed_history
from tests.analytics.test_api import csv_of, manager
from tests.api.conftest import errors_of

pytestmark = pytest.mark.django_db

WEEK = {"from": MON.date().isoformat(), "to": (MON + datetime.timedelta(days=6)).date().isoformat()}


def test_performance_gives_every_kpi_and_the_daily_series() -> None:
    mixed_history(3)
    api = manager()
    body = api.get("/metrics/performance", {**WEEK, "hours": "calendar"}).json()
    report = performance.performance(Filters.parse({**WEEK, "hours": "calendar"}))
    kpis = {k["key"]: k for k in body["kpis"]}
    assert kpis["created"]["value"] == report.values["created"]
    assert kpis["resolution_median_calendar"]["value"] == pytest.approx(report.values["resolution_median_calendar"])
    assert kpis["created"]["previous"] == 0
    assert [d["backlog"] for d in body["series"]] == [p.backlog for p in report.points]
    assert body["filters"]["from"] == WEEK["from"]
    assert body["previous"]["to"] == (MON - datetime.timedelta(days=1)).date().isoformat()
    assert {t["metric"] for t in body["sla_targets"]} == {"first_reply", "total_resolution"}
    rows, header = csv_of(api.get("/metrics/performance", {**WEEK, "format": "csv"}))
    assert header == list(SERIES_COLUMNS)
    assert [int(r["created"]) for r in rows] == [p.created for p in report.points]


def test_breakdown_per_team_adds_up_to_the_desk() -> None:
    mixed_history(3)
    api = manager()
    body = api.get("/metrics/breakdown", {**WEEK, "by": "team"}).json()
    total = performance.performance(Filters.parse(WEEK)).values["created"]
    assert sum(item["created"] for item in body["items"]) == total
    totals = performance_tables.breakdown(Filters.parse(WEEK), "team")
    assert {item["key"] for item in body["items"]} == set(totals)
    rows, header = csv_of(api.get("/metrics/breakdown", {**WEEK, "by": "priority", "format": "csv"}))
    assert header == list(BREAKDOWN_COLUMNS)
    assert {r["key"] for r in rows} <= {"low", "normal", "high", "urgent"}


def test_scorecards_and_operations() -> None:
    tickets = mixed_history(3)
    api = manager()
    team = tickets[0].team
    assert team is not None
    body = api.get("/metrics/scorecards", {**WEEK, "team": team.pk}).json()
    assert body["reference"]["name"] == f"Team {team.name}"
    assert len(body["items"]) == team.members.count()
    assert "solved" in body["items"][0]["scores"]
    teams = api.get("/metrics/scorecards", {**WEEK, "view": "teams"}).json()
    assert teams["reference"]["name"] == "Whole desk"
    live = api.get("/metrics/operations").json()
    assert live["backlog"]["total"] == Ticket.objects.filter(status__in=UNSOLVED).count() > 0
    assert "agents" in live


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/metrics/performance", {"from": "yesterday"}, "from"),
        ("/metrics/performance", {"hours": "lunar"}, "hours"),
        ("/metrics/performance", {"team": "x"}, "team"),
        ("/metrics/performance", {"format": "pdf"}, "format"),
        ("/metrics/breakdown", {"by": "mood"}, "by"),
        ("/metrics/scorecards", {"view": "people"}, "view"),
        ("/metrics/scorecards", {"team": "99999"}, "team"),
    ],
)
def test_bad_parameters_are_named(path: str, params: dict[str, str], field: str) -> None:
    response = manager().get(path, params)
    assert response.status_code == 422, response.content
    assert field in errors_of(response)


def test_a_fixed_number_of_queries() -> None:
    api = manager()
    mixed_history(3, tickets=4)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/metrics/performance", WEEK).status_code == 200
        return len(queries)

    count()  # the first request of a token also notes its use
    before = count()
    mixed_history(4, tickets=10)
    assert count() == before
