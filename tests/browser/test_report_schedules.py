"""Scheduled reports in a real browser: a manager makes a weekly report for the board through the
form (a mistake explained next to its field, fixed, saved) and finds it listed with each
recipient's next send in their own time zone, beside a report whose delivery failed. Takes the
`report-schedules` screenshot."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from deskpilot.accounts.models import Role, User
from deskpilot.reports import actions
from deskpilot.reports.actions import EmailRecipient
from deskpilot.reports.models import DeliveryStatus, ReportDelivery, ReportSubscription
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ids from 1 on both databases, so the screenshot only changes when the page does.
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MANAGER = "nora@deskpilot.test"


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(f"/signin?next={next_url}")
    page.fill("input[name=email] >> nth=0", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("domcontentloaded")


def person(role: str, email: str, name: str, time_zone: str) -> User:
    user = factories.user(role, email=email, name=name)
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


def test_a_manager_schedules_a_weekly_report_and_sees_it_listed(page):
    nora = person(Role.MANAGER, MANAGER, "Nora Lindqvist", "Europe/Stockholm")
    maya = person(Role.AGENT, "maya@deskpilot.test", "Maya Chen", "Asia/Singapore")
    factories.team(name="Billing", members=[maya], lead=nora)
    # A daily report whose last delivery failed: the list shows it in red with a link to the log.
    daily = actions.save_subscription(
        None,
        owner=nora,
        values={
            "name": "Daily numbers for the leads", "report": "performance", "filters": {"hours": "business"},
            "period": "previous_day", "frequency": "daily", "weekday": None, "day_of_month": None,
            "send_hour": 7, "active": True,
        },
        users=[nora],
        emails=[EmailRecipient("ops@northwind.test", "Europe/London")],
    )  # fmt: skip
    yesterday = timezone.now() - datetime.timedelta(days=1)
    ReportDelivery.objects.create(
        subscription=daily, recipient=daily.recipients.get(user=None), address="ops@northwind.test",
        time_zone="Europe/London", due_at=yesterday, period_start=yesterday.date(), period_end=yesterday.date(),
        status=DeliveryStatus.FAILED, attempts=4, last_error="550 5.1.1 <ops@northwind.test>: mailbox unavailable",
    )  # fmt: skip

    sign_in(page, MANAGER, "/reports/schedules/")
    assert page.inner_text("h1").strip() == "Scheduled reports"
    page.click("a:has-text('New scheduled report')")
    page.wait_for_url("**/reports/schedules/new")

    page.fill("#id_name", "Weekly for the board")
    page.select_option("#id_period", "previous_week")
    page.select_option("#id_team", label="Billing")
    page.select_option("#id_frequency", "monthly")  # the mistake: no day of the month
    page.select_option("#id_send_hour", "8")
    page.select_option("#id_users", [str(nora.pk), str(maya.pk)])
    page.fill("#id_emails", "cfo@northwind.test America/New_York")
    page.click("button:has-text('Create scheduled report')")
    page.wait_for_load_state("domcontentloaded")
    assert page.inner_text("#id_day_of_month_error") == "enter the day of the month it is sent (1 to 31)"
    assert page.get_attribute("#id_day_of_month", "aria-invalid") == "true"
    assert page.input_value("#id_name") == "Weekly for the board"  # what was typed is kept

    page.select_option("#id_frequency", "weekly")
    page.select_option("#id_weekday", "0")
    page.click("button:has-text('Create scheduled report')")
    page.wait_for_url("**/reports/schedules/")
    assert "Scheduled report “Weekly for the board” created." in page.inner_text("body")

    weekly = ReportSubscription.objects.get(name="Weekly for the board")
    row = page.locator(f"#schedule-{weekly.pk}")
    text = row.inner_text()
    assert "Weekly, Monday" in text
    assert "Team: Billing" in text
    for address, zone in (
        ("cfo@northwind.test", "America/New_York"),
        ("maya@deskpilot.test", "Asia/Singapore"),
        (MANAGER, "Europe/Stockholm"),
    ):
        assert address in text
        assert zone in text
    # Each recipient's next send is 08:00 on a Monday in their own zone.
    moments = row.locator("time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert len(moments) == 3
    for moment in moments:
        assert datetime.datetime.fromisoformat(moment).weekday() in (0, 6)  # Monday local is Sunday UTC in Asia
    failed = page.locator(f"#schedule-{daily.pk} .failed-count")
    assert failed.inner_text() == "1"
    screenshot(page, "report-schedules")

    failed.click()
    page.wait_for_url(f"**/reports/schedules/{daily.pk}/deliveries?status=failed")
    assert "550 5.1.1 <ops@northwind.test>: mailbox unavailable" in page.inner_text("table")
    assert page.is_visible("button:has-text('Retry')")
    assert page.outside_requests == []
