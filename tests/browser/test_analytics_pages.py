"""The managers' analytics in a real browser: the performance page with its filters, a chart point
clicked through to exactly its tickets, the scorecards, and the executive PDF downloaded and read
(text and page count). Takes the README's `performance`, `drilldown` and `scorecards` screenshots.

The history is made with the clock moved back (time_machine), days before today, so the default
range (the last 30 days) holds it."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from deskpilot.accounts.models import Role
from deskpilot.analytics import targets
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Via
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_manager_pages import heading, sign_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MANAGER = "nora@deskpilot.test"
SUBJECTS = [
    "Invoice shows the wrong company name",
    "Payroll export fails for every employee",
    "VAT number missing on receipts",
    "SSO sign-in fails after certificate rotation",
    "Refund for a double charge",
    "Cannot add a second admin",
    "Where do I change my password?",
    "CSV import stops at row 1,000",
]


def history() -> dict[str, Any]:
    """Two teams, three agents, and three weeks of tickets: replies an hour or a few later,
    most solved the same day."""
    nora = factories.user(Role.MANAGER, email=MANAGER, name="Nora Lindqvist")
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    jonas = factories.user(Role.AGENT, email="jonas@deskpilot.test", name="Jonas Weber")
    priya = factories.user(Role.AGENT, email="priya@deskpilot.test", name="Priya Nair")
    billing = factories.team(name="Billing", members=[maya, jonas], lead=nora)
    technical = factories.team(name="Technical support", members=[jonas, priya])
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully")
    today = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0)
    made = []
    for n in range(42):
        day = 21 - n // 2
        start = today - datetime.timedelta(days=day, hours=-(n % 5))
        team, agent = ((billing, maya), (billing, jonas), (technical, priya), (billing, maya))[n % 4]
        with time_machine.travel(start, tick=False):
            ticket = factories.ticket(
                requester=dana,
                subject=SUBJECTS[n % len(SUBJECTS)],
                priority=Priority.HIGH if n % 4 == 0 else Priority.NORMAL,
            )
            actions.update_ticket(ticket, actor=nora, via=Via.WEB, changes={"team": team, "assignee": agent})
        with time_machine.travel(start + datetime.timedelta(hours=1 + n % 3), tick=False):
            actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Here is how.")
        if n % 6:
            with time_machine.travel(start + datetime.timedelta(hours=3 + n % 4), tick=False):
                actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
        made.append(ticket)
    targets.create_target(kpi="first_reply_median_business", threshold=2 * 3600, created_by=nora)
    return {"nora": nora, "billing": billing, "technical": technical, "tickets": made, "maya": maya}


def chart_point(page, chart: str, dataset: int, index: int) -> tuple[float, float]:
    """Where on the page Chart.js drew a dataset's point (or the middle of its bar)."""
    canvas = page.locator(f'[data-chart="{chart}"] canvas')
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = page.evaluate(
        """([chart, dataset, index]) => {
            const c = document.querySelector(`[data-chart="${chart}"]`).chart;
            const el = c.getDatasetMeta(dataset).data[index];
            return [el.x, el.base === undefined ? el.y : (el.y + el.base) / 2];
        }""",
        [chart, dataset, index],
    )
    return box["x"] + x, box["y"] + y


def test_performance_filters_and_a_chart_point_leads_to_its_tickets(page):
    data = history()
    sign_in(page, MANAGER, "/inbox")
    page.click(".topnav a:has-text('Performance')")
    page.wait_for_url("**/analytics/performance")
    assert heading(page) == "Performance"
    assert page.inner_text("[data-kpi=created] .perf-figure") == "42"
    # The first reply target is judged on the tile.
    assert page.locator("[data-kpi=first_reply_median_business] .target-badge").count() == 1
    page.wait_for_selector('[data-chart="volume"]:not([hidden]) canvas')
    screenshot(page, "performance")

    # Filter to one team: the figures follow.
    page.select_option("select[name=team]", label="Billing")
    page.click("[data-apply]")
    page.wait_for_url(f"**team={data['billing'].pk}**")
    billing = sum(1 for t in data["tickets"] if t.team_id == data["billing"].pk)
    assert page.inner_text("[data-kpi=created] .perf-figure") == str(billing)
    assert "Team: Billing" in page.inner_text("[data-describe]")

    # Click the "Created" bar of a day with tickets: the list holds that day's Billing tickets.
    page.wait_for_selector('[data-chart="volume"]:not([hidden]) canvas')
    labels = page.evaluate("() => JSON.parse(document.getElementById('perf-chart-data').textContent).labels")
    created = page.evaluate("() => JSON.parse(document.getElementById('perf-chart-data').textContent).volume.created")
    index = next(i for i, n in enumerate(created) if n > 0)
    x, y = chart_point(page, "volume", 0, index)
    page.mouse.click(x, y)
    page.wait_for_url("**/analytics/tickets?**")
    day = datetime.date.fromisoformat(labels[index])
    expected = {
        t.pk
        for t in data["tickets"]
        if t.team_id == data["billing"].pk and t.created_at.astimezone(datetime.UTC).date() == day
    }
    listed = {int(v) for v in page.eval_on_selector_all("tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")}
    assert listed == expected
    assert page.inner_text("[data-total]") == str(len(expected))
    screenshot(page, "drilldown")
    assert page.outside_requests == []


def test_scorecards_and_the_executive_pdf(page):
    history()
    sign_in(page, MANAGER, "/analytics/scorecards")
    assert heading(page) == "Scorecards"
    page.select_option("select[name=team]", label="Billing")
    page.click("[data-apply]")
    page.wait_for_url("**team=**")
    rows = page.eval_on_selector_all("tr[data-card]", "rows => rows.map(r => r.dataset.card)")
    # Billing's members (its lead included), then the team's own figures.
    assert rows == ["Jonas Weber", "Maya Chen", "Nora Lindqvist", "reference"]
    assert page.locator("tr[data-card='Maya Chen'] td[data-kpi=solved] a").inner_text() != "—"
    screenshot(page, "scorecards")

    page.goto("/analytics/performance")
    with page.expect_download() as download:
        page.click("[data-pdf]")
    pdf = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert 1 <= len(pdf.pages) <= 6
    assert "Executive report" in text
    assert "First reply" in text
    assert "Created" in text
    # The period's 42 tickets, as on the page.
    assert "42" in text
    assert page.outside_requests == []
