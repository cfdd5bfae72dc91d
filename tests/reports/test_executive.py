"""The executive report (deskpilot.reports.executive): the figures it gathers for a hand-built
fortnight, and the PDF read back with pypdf (pages and text), for a busy, an empty and a
year-long period."""

from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from deskpilot.accounts.models import Role
from deskpilot.analytics import formatting, targets
from deskpilot.analytics.kpis import KPIS
from deskpilot.analytics.models import KpiTarget, TargetDirection
from deskpilot.analytics.performance import Filters, KpiFigure
from deskpilot.policies import sla
from deskpilot.policies.models import SlaPolicy, SlaTarget
from deskpilot.reports import executive
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, TicketType, Via
from tests import factories
from tests.analytics.scenarios import at

pytestmark = pytest.mark.django_db

# The previous week (days 0-6) and the week reported (days 7-13).
WEEK = Filters(start=at(0, day=7).date(), end=at(0, day=13).date(), hours="calendar")


def _ticket(day: int, reply_after: float, solve_after: float | None, tags: list[str], type: str) -> None:
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9, day=day), tick=False):
        # The customer writes in (an agent's own ticket has no first reply to wait for).
        ticket = factories.ticket(type=type)
        if tags:
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": tags})
    with time_machine.travel(at(9 + reply_after, day=day), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Looking into it.")
    if solve_after is not None:
        with time_machine.travel(at(9 + solve_after, day=day), tick=False):
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})


def fortnight() -> None:
    """A first reply target of 2 hours. Previous week: 4 tickets answered in an hour, 2 of them tagged billing. This week: 8
    tickets answered in 3 hours, billing on 5, refunds on 3 (markup in a tag name must stay
    text), 3 incidents; 2 left open."""
    policy = SlaPolicy.objects.create(name="Reports", warning_percent=None)
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority=Priority.NORMAL, minutes=120)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    for day in range(4):
        _ticket(day, 1, 2, ["billing"] if day < 2 else [], TicketType.QUESTION)
    for n in range(8):
        tags = (["billing"] if n < 5 else []) + (["<i>refund</i>"] if n >= 5 else [])
        kind = TicketType.INCIDENT if n < 3 else TicketType.QUESTION
        _ticket(7 + n % 5, 3, 5 if n < 6 else None, tags, kind)


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def test_gather_reads_the_period_the_causes_and_the_changes() -> None:
    fortnight()
    data = executive.gather(WEEK)
    assert not data.empty
    values = data.report.values
    assert (values["created"], values["solved"], values["backlog"]) == (8, 6, 2)
    assert [line.figure.kpi.key for line in data.kpis][:3] == ["created", "solved", "backlog"]
    assert all(line.status is None for line in data.kpis)  # no book, no targets
    assert data.tags == [executive.Cause("billing", 5, 2), executive.Cause("<i>refund</i>", 3, 0)]
    assert data.types == [executive.Cause("Question", 5, 4), executive.Cause("Incident", 3, 0)]
    keys = [change.figure.kpi.key for change in data.changes]
    # First reply went from 1 h to 3 h (worse): listed before the volumes (no better side).
    assert keys[0] in ("first_reply_median_calendar", "first_reply_p90_calendar")
    assert keys.index("first_reply_median_calendar") < keys.index("created")
    median = next(c for c in data.changes if c.figure.kpi.key == "first_reply_median_calendar")
    # 1 h and 3 h read from the histogram buckets (1-2 h, 2-4 h) as 1 h 30 min and 3 h.
    assert median.sentence == "First reply median (calendar hours) rose from 1 h 30 min to 3 h (+100 %)"


def test_types_with_a_filter_come_from_the_records() -> None:
    fortnight()
    data = executive.gather(Filters(start=WEEK.start, end=WEEK.end, tag="billing", hours="calendar"))
    assert data.report.values["created"] == 5
    assert data.tags == [executive.Cause("billing", 5, 2)]
    assert data.types == [executive.Cause("Incident", 3, 0), executive.Cause("Question", 2, 2)]


def test_gather_reads_a_fixed_number_of_queries() -> None:
    fortnight()
    with CaptureQueriesContext(connection) as queries:
        executive.gather(WEEK)
    # performance (series, backlog), two tag counts, two type rollup totals.
    assert len(queries) == 6


def test_notable_changes_worst_first_and_only_large_ones() -> None:
    def figure(key: str, value: float | None, previous: float | None) -> KpiFigure:
        return KpiFigure(KPIS[key], value, previous)

    changes = executive.notable_changes(
        [
            figure("created", 150, 100),  # +50 %, no better side
            figure("csat", 95, 80),  # +19 %, better
            figure("backlog", 109, 100),  # +9 %: not notable
            figure("sla_achievement", 60, 90),  # -33 %, worse
            figure("first_reply_median_business", 11100, 7800),  # +42 %, worse
            figure("solved", 10, 0),  # from nothing: no ratio
            figure("reopen_rate", None, 5),
        ]
    )
    assert [c.figure.kpi.key for c in changes] == [
        "first_reply_median_business",
        "sla_achievement",
        "created",
        "csat",
    ]
    assert changes[0].sentence == "First reply median (business hours) rose from 2 h 10 min to 3 h 05 min (+42 %)"
    assert changes[1].sentence == "SLA achievement fell from 90.0 % to 60.0 % (-33 %)"


def test_the_pdf_shows_the_figures_the_causes_and_the_changes() -> None:
    fortnight()
    data = executive.gather(WEEK)
    pages, text = pdf_text(executive.build(data))
    assert 1 <= pages <= 4
    assert "Deskpilot" in text
    assert "Executive report" in text
    assert WEEK.describe() in text
    for line in data.kpis:
        assert line.figure.kpi.label in text
    assert (
        formatting.kpi_value(KPIS["first_reply_median_calendar"], data.report.values["first_reply_median_calendar"])
        in text
    )
    assert "Created 8 4 ↑ +4" in text
    assert "First reply median (calendar hours) 3 h 1 h 30 min ↑ +1 h 30 min" in text
    assert "Backlog 2 " in text
    assert "Busiest causes" in text
    assert "billing 5 2 +150 %" in text
    assert "<i>refund</i> 3 0 new" in text  # shown as typed, never markup
    assert "Incident 3 0 new" in text
    assert data.changes[0].sentence in text
    assert "SLA achievement fell from 100.0 % to 0.0 % (-100 %)" in text
    assert "SLA achievement 0.0 % 100.0 % ↓ -100.0 pts" in text
    assert (
        "SLA achievement per target SLA target Met Breached Achievement Previous First reply 0 8 0.0 % 100.0 %" in text
    )
    assert "Created and solved per day" in text


def test_render_pdf_of_an_empty_period() -> None:
    pages, text = pdf_text(executive.render_pdf(WEEK))
    assert pages == 1
    assert executive.EMPTY in text
    assert "Created 0 0 no change" in text
    assert "CSAT — — —" in text


def test_render_pdf_of_a_year_has_readable_charts() -> None:
    fortnight()
    year = Filters(start=WEEK.end - datetime.timedelta(days=365), end=WEEK.end)
    assert year.days == 366
    pages, text = pdf_text(executive.render_pdf(year))
    assert pages <= 4
    assert "Created 12 " in text
    # Labels thinned: one every 37 days, not 366.
    labels = [f"{year.start + datetime.timedelta(days=n * 37):%-d %b}" for n in range(10)]
    for label in labels:
        assert label in text
    assert f"{year.start + datetime.timedelta(days=1):%-d %b}" not in text


def test_the_kpis_are_judged_against_their_targets() -> None:
    fortnight()
    team = factories.team()
    KpiTarget.objects.create(kpi="solved", threshold=10, direction=TargetDirection.AT_LEAST)
    KpiTarget.objects.create(kpi="backlog", threshold=5, direction=TargetDirection.AT_MOST, at_risk_band=1)
    KpiTarget.objects.create(
        kpi="first_reply_median_calendar", threshold=3 * 3600, direction=TargetDirection.AT_MOST, at_risk_band=1200
    )
    # A team's own target applies only to a report filtered on that team.
    KpiTarget.objects.create(kpi="created", threshold=1, direction=TargetDirection.AT_MOST, team=team)
    data = executive.gather(WEEK, book=targets.load())
    states = {line.figure.kpi.key: line.status.label for line in data.kpis if line.status is not None}
    assert states == {"solved": "Missed", "backlog": "On track", "first_reply_median_calendar": "At risk"}
    _, text = pdf_text(executive.build(data))
    assert "Solved 6 4 ↑ +2 Missed Target: at least 10" in text
    assert "Backlog 2 0 ↑ +2 On track" in text
    frt = next(line for line in data.kpis if line.figure.kpi.key == "first_reply_median_calendar")
    assert frt.status is not None
    assert " ".join(frt.status.description.split()) in text


def test_names_typed_by_users_stay_text_in_the_pdf() -> None:
    fortnight()
    team = factories.team(name="<b>Ops</b> & Co")
    filters = Filters(start=WEEK.start, end=WEEK.end, team=team.pk, tag="<i>refund</i>")
    assert "Team: <b>Ops</b> & Co · Tag: <i>refund</i>" in filters.describe()
    pages, text = pdf_text(executive.render_pdf(filters))
    assert pages == 1
    assert filters.describe() in text
    assert executive.EMPTY in text  # the team has none of the refunds


def test_trends_without_values_still_render() -> None:
    # Day 7: one ticket answered, none solved (no resolution time all week); day 8: one never
    # answered.
    _ticket(7, 3, None, [], TicketType.QUESTION)
    with time_machine.travel(at(9, day=8), tick=False):
        factories.ticket()
    pages, text = pdf_text(executive.render_pdf(WEEK))
    assert pages >= 1
    assert "Resolution median (hours): no data" in text
    # A single day with no first reply and no solve: the times chart has nothing to draw.
    day = Filters(start=at(0, day=8).date(), end=at(0, day=8).date())
    _, text = pdf_text(executive.render_pdf(day))
    assert "Created 1 1 no change" in text
    assert "No data in this period" in text
