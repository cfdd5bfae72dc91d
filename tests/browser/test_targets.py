"""The KPI targets pages in a real browser: a manager sets a team's target through the form (a
mistake explained next to its field, fixed, saved) and finds it listed under the team, in hours.
Takes the README's `targets` screenshot."""

from __future__ import annotations

import pytest
from django.conf import settings

from deskpilot.accounts.models import Role
from deskpilot.analytics import targets
from deskpilot.analytics.models import KpiTarget, TargetDirection
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ids from 1 on both databases, so the screenshot only changes when the page does.
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MANAGER = "nora@deskpilot.test"
HOUR = 3600


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(f"/signin?next={next_url}")
    page.fill("input[name=email] >> nth=0", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("domcontentloaded")


def test_a_manager_sets_a_team_target_and_sees_it_listed(page):
    nora = factories.user(Role.MANAGER, email=MANAGER, name="Nora Lindqvist")
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    factories.team(name="Billing", members=[maya], lead=nora)
    technical = factories.team(name="Technical support", members=[maya])
    agreed = "Agreed with the support leads for the second half of the year."
    targets.create_target(kpi="first_reply_p90_business", threshold=4 * HOUR, notes=agreed, created_by=nora)
    targets.create_target(kpi="sla_achievement", threshold=95, created_by=nora)
    targets.create_target(kpi="csat", threshold=90, created_by=nora)
    targets.create_target(
        kpi="created", threshold=1500, direction=TargetDirection.AT_MOST, notes="Staffing plan", created_by=nora
    )
    targets.create_target(kpi="csat", threshold=92, at_risk_band=1, agent=maya, notes="Mentoring goal")

    sign_in(page, MANAGER, "/analytics/targets")
    assert page.inner_text("h1").strip() == "KPI targets"
    page.click("a:has-text('New target')")
    page.wait_for_url("**/analytics/targets/new")

    # The team picker shows only for a team target; the direction only for Created.
    page.wait_for_selector("#id_team", state="hidden")
    assert page.input_value("#id_kpi") == "created"
    assert page.is_visible("#id_direction")
    page.select_option("#id_kpi", "first_reply_p90_business")
    # Alpine applies x-show on its next tick: wait for it rather than read at once.
    page.wait_for_selector("#id_direction", state="hidden")
    page.wait_for_selector("#id_bare_unit", state="visible")
    page.check("#id_scope_1")
    page.wait_for_selector("#id_team", state="visible")
    page.select_option("#id_team", label="Technical support")
    page.fill("#id_threshold", "three hours")
    page.click("button:has-text('Set target')")

    error = page.locator("#id_threshold_error")
    assert error.inner_text() == "'three hours' is not a duration; write e.g. 4h, 90m or 1h 30m"
    assert page.get_attribute("#id_threshold", "aria-invalid") == "true"
    page.wait_for_selector("#id_team", state="visible")  # the refused form keeps the team scope
    assert not KpiTarget.objects.filter(team=technical).exists()

    page.fill("#id_threshold", "2h 30m")
    page.fill("#id_notes", "Their queue is smaller: they can answer faster.")
    page.click("button:has-text('Set target')")
    page.wait_for_url(f"**/analytics/targets#team-{technical.pk}")
    assert "target set for team Technical support: at most 2 h 30 min (business)" in page.inner_text(".flash, main")

    section = page.locator(f"section:has(h2#team-{technical.pk})")
    assert section.locator("h2").inner_text() == "Team: Technical support"
    row = section.locator("tbody tr")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[:4] == [
        "First reply 90th percentile (business hours)",
        "at most 2 h 30 min (business)",
        "from 2 h 15 min",
        "Their queue is smaller: they can answer faster.",
    ]
    headings = page.locator(".targets-scope h2").all_inner_texts()
    assert headings == ["Whole desk", "Team: Technical support", "Agent: Maya Chen"]
    assert page.outside_requests == []
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "targets")
