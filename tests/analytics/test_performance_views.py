"""The performance page, the drill-down list and the scorecards as a manager uses them: figures
and links on the page, refused filters named with what was typed kept, downloads, the executive
PDF link, and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import datetime
import io
import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from deskpilot.accounts.models import Role, User
from deskpilot.analytics import performance
from deskpilot.analytics.performance import Filters
from tests import factories
from tests.analytics.scenarios import MON, mixed_history

pytestmark = pytest.mark.django_db

WEEK = {"from": MON.date().isoformat(), "to": (MON + datetime.timedelta(days=6)).date().isoformat()}


def manager() -> Client:
    client = Client()
    client.force_login(factories.user(Role.MANAGER))
    return client


def page(client: Client, name: str, **params: str) -> str:
    response = client.get(f"{reverse(name)}?{urlencode(params)}")
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def test_the_page_shows_every_headline_figure_linked_to_its_tickets() -> None:
    mixed_history(3)
    client = manager()
    html = page(client, "analytics:performance", **WEEK, hours="calendar")
    report = performance.performance(Filters.parse({**WEEK, "hours": "calendar"}))
    for figure in report.headline():
        assert f'data-kpi="{figure.kpi.key}"' in html
    created = re.search(r'<a class="card perf-tile" href="([^"]+)" data-kpi="created">', html)
    assert created is not None
    listed = client.get(created.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    assert listed.context["page"].total == report.values["created"]
    # The charts' data: one point per day, each with its drill-down link.
    chart = client.get(f"{reverse('analytics:performance')}?{urlencode(WEEK)}").context["chart"]
    assert len(chart["labels"]) == 7
    assert len(chart["volume"]["urls"]["created"]) == 7
    assert chart["volume"]["created"] == [p.created for p in report.points]
    # "Schedule by e-mail" opens the schedule form with these filters.
    with_team = client.get(reverse("analytics:performance"), {**WEEK, "team": "none", "channel": "email"})
    schedule = client.get(with_team.context["schedule_url"])
    assert schedule.status_code == 200
    assert "channel=email" in with_team.context["schedule_url"]
    assert "from=" not in with_team.context["schedule_url"]
    day_url = chart["volume"]["urls"]["solved"][1]
    assert client.get(day_url).context["page"].total == report.points[1].solved


def test_a_refused_filter_is_named_and_what_was_typed_is_kept() -> None:
    client = manager()
    response = client.get(reverse("analytics:performance"), {"from": "last tuesday", "tag": "<b>vip</b>", "by": "x"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-error="from"' in html
    assert 'data-error="by"' in html
    assert 'value="last tuesday"' in html
    assert "<b>vip</b>" not in html
    assert "&lt;b&gt;vip&lt;/b&gt;" in html


def test_tables_download_as_csv_and_xlsx() -> None:
    mixed_history(3)
    client = manager()
    response = client.get(reverse("analytics:performance"), {**WEEK, "format": "csv", "table": "daily"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 7
    report = performance.performance(Filters.parse(WEEK))
    assert [int(r[1]) for r in rows[1:]] == [p.created for p in report.points]
    workbook = client.get(reverse("analytics:performance"), {**WEEK, "format": "xlsx"})
    assert workbook.status_code == 200
    sheets = load_workbook(io.BytesIO(workbook.content)).sheetnames
    assert len(sheets) == 4
    refused = client.get(reverse("analytics:performance"), {**WEEK, "format": "csv", "table": "nope"})
    assert refused.status_code == 422
    assert 'data-error="table"' in refused.content.decode()
    refused = client.get(reverse("analytics:performance"), {**WEEK, "format": "docx"})
    assert refused.status_code == 422


def test_the_drilldown_page_lists_pages_and_downloads() -> None:
    tickets = mixed_history(3)
    client = manager()
    html = page(client, "analytics:drilldown", measure="created", **WEEK)
    for ticket in tickets:
        assert f'data-ticket="{ticket.pk}"' in html
    assert f"<span data-total>{len(tickets)}</span>" in html
    download = client.get(reverse("analytics:drilldown"), {"measure": "created", **WEEK, "format": "csv"})
    assert len(list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))) == 1 + len(tickets)
    refused = client.get(reverse("analytics:drilldown"), {"measure": "nothing", "offset": "x"})
    assert refused.status_code == 422
    assert 'data-error="measure"' in refused.content.decode()
    refused = client.get(reverse("analytics:drilldown"), {"measure": "created", "offset": "-1"})
    assert refused.status_code == 422


def test_a_subject_is_escaped_in_the_list() -> None:
    factories.ticket(subject="<script>alert(1)</script>")
    html = page(manager(), "analytics:drilldown", measure="created")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_scorecards_compare_each_agent_with_the_team() -> None:
    tickets = mixed_history(3)
    team = tickets[0].team
    assert team is not None
    client = manager()
    response = client.get(reverse("analytics:scorecards"), {**WEEK, "team": str(team.pk)})
    assert response.status_code == 200
    cards = response.context["cards"]
    members = set(User.objects.filter(teams=team).values_list("name", flat=True))
    assert {card.name for card in cards.cards} == members
    assert cards.reference_name == f"Team {team.name}"
    html = response.content.decode()
    assert 'data-card="reference"' in html
    teams = client.get(reverse("analytics:scorecards"), {**WEEK, "view": "teams"})
    assert teams.status_code == 200
    assert teams.context["cards"].reference_name == "Whole desk"
    download = client.get(reverse("analytics:scorecards"), {**WEEK, "view": "teams", "format": "csv"})
    assert download.status_code == 200
    assert client.get(reverse("analytics:scorecards"), {"view": "people"}).status_code == 422
    assert client.get(reverse("analytics:scorecards"), {"team": "999999"}).status_code == 422


def test_scorecards_show_each_agents_survey_scores_beside_the_teams() -> None:
    from deskpilot.feedback.models import Invitation, SurveyResponse

    tickets = mixed_history(3)
    team = tickets[0].team
    assert team is not None
    first, second = User.objects.filter(teams=team).order_by("pk")[:2]
    sent = MON + datetime.timedelta(hours=10)

    def asked(kind: str, agent: User, score: int | None) -> None:
        invitation = Invitation.objects.create(
            kind=kind, customer=tickets[0].requester, team=team, agent=agent, status="sent", due_at=sent, sent_at=sent
        )
        if score is not None:
            SurveyResponse.objects.create(invitation=invitation, score=score)

    for score in (10, 9, 3):  # first: 2 promoters, 1 detractor of 3 -> +33
        asked("nps", first, score)
    asked("nps", second, 0)  # second: -100
    asked("ces", first, 6)
    asked("csat", first, None)  # sent, not answered
    response = manager().get(reverse("analytics:scorecards"), {**WEEK, "team": str(team.pk)})
    rows = {row["name"]: row for row in response.context["surveys"]}
    assert round(rows[first.name]["scores"].nps.score) == 33
    assert rows[second.name]["scores"].nps.score == -100.0
    assert rows[first.name]["scores"].ces == 6.0
    reference = rows[f"Team {team.name}"]
    assert reference["reference"]
    assert reference["scores"].nps.score == 0.0
    html = response.content.decode()
    assert 'data-table="scorecard-surveys"' in html
    assert f"by=agent&amp;key={first.pk}" in html


def _queries(client: Client, name: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(name), params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("analytics:performance", WEEK),
        ("analytics:performance", {**WEEK, "team": "1", "priority": "high"}),
        ("analytics:drilldown", {**WEEK, "measure": "solved"}),
        ("analytics:scorecards", WEEK),
        ("analytics:scorecards", {**WEEK, "view": "teams"}),
    ],
)
def test_the_query_count_does_not_grow_with_the_data(name: str, params: dict[str, str]) -> None:
    client = manager()
    mixed_history(3, tickets=4)
    before = _queries(client, name, **params)
    mixed_history(4, tickets=12)
    assert _queries(client, name, **params) == before
