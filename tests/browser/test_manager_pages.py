"""The managers' pages in a real browser: the Manage overview and its cards, an SLA policy made
through the form (a mistake explained next to its cell, fixed, saved, moved up), the SLA card of a
ticket counting down in the browser with a manual escalation, a trigger and its dry run, a team's
routing, the webhook pages, and an agent's notifications from the bell to the ticket. Takes the
README's `manage`, `sla-policies`, `sla-policy-edit`, `ticket-sla`, `triggers`, `routing` and
`webhooks` screenshots.

Times are relative to now (the live server runs in real time): a ticket's SLA targets are due a
set number of minutes from its creation, and the browser's clock is moved forward to see the
countdown tick."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from deskpilot.accounts.models import Role, User
from deskpilot.automation import webhooks
from deskpilot.automation.models import Trigger, WebhookFormat
from deskpilot.core.models import Notification
from deskpilot.policies import sla_actions
from deskpilot.policies.models import SlaPolicy
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Ticket, TicketEvent, Via
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ids from 1 on both databases, so the screenshots only change when the pages do.
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MANAGER = "nora@deskpilot.test"
# Each card of /manage/ and the heading of the page it opens.
MANAGE_CARDS = {
    "SLA policies": "SLA policies",
    "Escalation policies": "Escalation policies",
    "Business hours": "Business hours",
    "Routing": "Routing",
    "Triggers": "Triggers",
    "Automations": "Automations",
    "Macros": "Macros",
    "Webhooks": "Webhooks",
    "KPI targets": "KPI targets",
    "Scheduled reports": "Scheduled reports",
    "Surveys": "Surveys",
    "Survey follow-ups": "Follow-ups",
    "Failed email": "Failed email",
    "Spam": "Spam",
}


def ago(minutes: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def cell(minutes: int, business: bool = True) -> dict[str, object]:
    return {"minutes": minutes, "business_hours": business}


def desk() -> dict[str, Any]:
    """A manager, three agents in two teams, the support hours calendar, a breach escalation and
    the "Urgent and high" policy, all made through the managers' actions."""
    nora = factories.user(Role.MANAGER, email=MANAGER, name="Nora Lindqvist")
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    jonas = factories.user(Role.AGENT, email="jonas@deskpilot.test", name="Jonas Weber")
    priya = factories.user(Role.AGENT, email="priya@deskpilot.test", name="Priya Nair")
    billing = factories.team(name="Billing", members=[maya, jonas], lead=nora)
    technical = factories.team(name="Technical support", members=[jonas, priya])
    hours = sla_actions.create_calendar(
        name="Support hours",
        time_zone="Europe/Berlin",
        intervals=[{"weekday": day, "start": "08:00", "end": "18:00"} for day in range(5)],
    )
    sla_actions.assign_calendars(default=hours.pk)
    breach = sla_actions.create_escalation_policy(
        name="Breach: tell the assignee and the lead", on_breach=True, notify_assignee=True, notify_team_lead=True
    )
    urgent = sla_actions.create_sla_policy(
        name="Urgent and high",
        description="Fast answers for what cannot wait; urgent tickets count around the clock.",
        priorities=["urgent", "high"],
        warning_percent=75,
        escalation=breach.pk,
        targets={
            "urgent": {
                "first_reply": cell(60, business=False),
                "requester_wait": cell(4 * 60, business=False),
                "total_resolution": cell(24 * 60, business=False),
            },
            "high": {"first_reply": cell(2 * 60), "total_resolution": cell(40 * 60)},
        },
    )
    return {
        "nora": nora,
        "maya": maya,
        "jonas": jonas,
        "priya": priya,
        "billing": billing,
        "technical": technical,
        "breach": breach,
        "urgent": urgent,
    }


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(f"/signin?next={next_url}")
    page.fill("input[name=email] >> nth=0", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("domcontentloaded")


def heading(page) -> str:
    return page.inner_text("h1").strip()


def test_manage_overview_and_its_cards(page):
    desk()
    sign_in(page, MANAGER, "/inbox")
    page.click(".topnav a:has-text('Manage')")
    page.wait_for_url("**/manage/")
    assert heading(page) == "Manage"
    assert page.get_attribute(".topnav a:has-text('Manage')", "aria-current") == "page"
    titles = [t.strip() for t in page.locator(".manage-card-title").all_inner_texts()]
    assert titles == list(MANAGE_CARDS)
    assert page.locator(".manage-group h2").all_inner_texts() == [
        "Service levels",
        "Assignment and automation",
        "Measuring and reporting",
        "Email",
    ]
    screenshot(page, "manage")

    for title, expected in MANAGE_CARDS.items():
        page.goto("/manage/")
        page.click(f".manage-card-title:text-is('{title}')")
        page.wait_for_load_state("domcontentloaded")
        assert heading(page) == expected, title
        if "/manage/" in page.url:  # the email pages live under /mail/
            assert page.get_attribute(".topnav a:has-text('Manage')", "aria-current") == "page", title
    assert page.outside_requests == []


def test_sla_policy_form_explains_a_mistake_then_saves_and_reorders(page):
    data = desk()
    factories.organization(name="Northwind Traders", tier="premium")
    sla_actions.create_sla_policy(
        name="Standard",
        description="Everything else, in business hours.",
        priorities=["normal", "low"],
        warning_percent=75,
        escalation=data["breach"].pk,
        targets={
            "normal": {"first_reply": cell(8 * 60), "total_resolution": cell(80 * 60)},
            "low": {"first_reply": cell(16 * 60)},
        },
    )
    sign_in(page, MANAGER, "/manage/sla-policies/")
    assert heading(page) == "SLA policies"
    page.click("a.button:has-text('New SLA policy')")
    page.wait_for_url("**/manage/sla-policies/new")
    assert heading(page) == "New SLA policy"

    page.fill("#id_name", "Premium customers")
    page.fill("#id_description", "Premium and enterprise customers get answers within the hour.")
    page.fill("#id_warning_percent", "80")
    page.select_option("#id_escalation", label="Breach: tell the assignee and the lead")
    page.check("label.choice:has-text('Premium') input")
    page.check("label.choice:has-text('Enterprise') input")
    # A new policy counts in business hours unless the box is unticked.
    assert page.is_checked("#id_targets_urgent_first_reply_business")
    page.fill("#id_targets_urgent_first_reply", "30")
    page.fill("#id_targets_high_first_reply", "-45")
    page.fill("#id_targets_high_total_resolution", "960")
    page.click(".form-actions button:has-text('Save')")

    # 422: the mistake is explained in its own cell of the matrix, and nothing typed is lost.
    error = page.locator("#id_targets_high_first_reply_error")
    error.wait_for()
    assert "must be a whole number of minutes above 0" in error.inner_text()
    mistaken = page.locator("td.target-cell", has=page.locator("#id_targets_high_first_reply"))
    assert "field--error" in (mistaken.get_attribute("class") or "")
    assert mistaken.locator(".error").count() == 1
    assert page.locator(".error").count() == 1
    assert page.input_value("#id_targets_high_first_reply") == "-45"
    assert page.input_value("#id_name") == "Premium customers"
    assert page.input_value("#id_targets_urgent_first_reply") == "30"
    assert page.is_checked("label.choice:has-text('Enterprise') input")
    assert not SlaPolicy.objects.filter(name="Premium customers").exists()

    page.fill("#id_targets_high_first_reply", "45")
    page.click(".form-actions button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('SLA policy “Premium customers” saved')")
    assert heading(page) == "SLA policies"
    names = page.locator(".policy-table tbody tr td:nth-child(2) strong").all_inner_texts()
    assert names == ["Urgent and high", "Standard", "Premium customers"]
    premium = SlaPolicy.objects.get(name="Premium customers")
    row = page.locator(f"#policy-{premium.pk}")
    # (Tiers are listed by their stored values, unlike priorities: compared without case.)
    assert "tier: premium, enterprise" in row.inner_text().lower()
    assert "First reply: Urgent 30 m (business), High 45 m (business)" in row.inner_text()
    assert "warns at 80 %" in row.inner_text()
    assert {(t.priority, t.metric, t.minutes, t.business_hours) for t in premium.targets.all()} == {
        ("urgent", "first_reply", 30, True),
        ("high", "first_reply", 45, True),
        ("high", "total_resolution", 960, True),
    }

    # Premium customers first: it must be tried before "Urgent and high" catches their tickets.
    page.fill(f"#position-{premium.pk}", "1")
    row.locator(".position-form button:has-text('Move')").click()
    page.wait_for_function(
        "() => document.querySelector('.policy-table tbody tr strong').textContent === 'Premium customers'"
    )
    page.click("button[aria-label='Move Standard up']")
    page.wait_for_function(
        "() => document.querySelectorAll('.policy-table tbody tr strong')[1].textContent === 'Standard'"
    )
    names = page.locator(".policy-table tbody tr td:nth-child(2) strong").all_inner_texts()
    assert names == ["Premium customers", "Standard", "Urgent and high"]
    assert list(SlaPolicy.objects.order_by("position").values_list("name", flat=True)) == names
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "sla-policies")

    page.click(f"#policy-{premium.pk} a:has-text('Edit')")
    page.wait_for_url(f"**/manage/sla-policies/{premium.pk}/")
    assert heading(page) == "Premium customers"
    assert page.input_value("#id_targets_high_first_reply") == "45"
    assert page.input_value("#id_warning_percent") == "80"
    assert page.is_checked("#id_targets_high_first_reply_business")
    assert page.input_value("#id_escalation") == str(data["breach"].pk)
    page.locator("h2:text-is('Conditions')").evaluate("el => el.scrollIntoView({block: 'start'})")
    screenshot(page, "sla-policy-edit")
    assert page.outside_requests == []


def sla_ticket(data: dict[str, Any]) -> Ticket:
    """An urgent ticket under "Urgent and high", opened by the customer 95 minutes ago and not
    answered: its first reply (60 min) is breached, requester wait (4 h) and total resolution (24 h)
    still run."""
    northwind = factories.organization(name="Northwind Traders", tier="premium", domains=["northwind.test"])
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully", organization=northwind)
    ticket = actions.create_ticket(
        actor=dana,
        via=Via.EMAIL,
        subject="Payroll export fails for every employee",
        body_text="Since this morning the payroll export stops with error E-1042. Our payroll run is today.",
        requester=dana,
        priority=Priority.URGENT,
        at=ago(95),
    )
    actions.update_ticket(
        ticket,
        actor=data["maya"],
        via=Via.WEB,
        changes={"team": data["billing"], "assignee": data["maya"], "tags": ["payroll"]},
        at=ago(94),
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy_id == data["urgent"].pk
    return ticket


def minutes_of(text: str) -> int:
    """ "2 h 25 m" → 145, "-35 m" → -35 (the countdown's words)."""
    match = re.fullmatch(r"(-?)(?:(\d+) d )?(?:(\d+) h ?)?(?:(\d+) m)?", text.strip())
    assert match, text
    sign, days, hours, minutes = match.groups()
    total = int(days or 0) * 1440 + int(hours or 0) * 60 + int(minutes or 0)
    return -total if sign else total


def test_ticket_sla_card_counts_down_and_escalates(page):
    data = desk()
    ticket = sla_ticket(data)
    # The page's clock starts at the real time and runs on; moving it forward runs the countdown
    # timer as if minutes had passed.
    page.clock.install()
    sign_in(page, MANAGER, f"/tickets/{ticket.pk}")
    card = page.locator(".sla-panel")
    card.wait_for()
    assert "Urgent and high" in card.locator("h2").inner_text()
    # The targets that run for an urgent ticket, in the clock's order; agent work and the others
    # have no urgent target in this policy.
    targets = [row.split("\t")[0] for row in card.locator("tbody tr").all_inner_texts()]
    assert targets == ["Requester wait", "Total resolution", "First reply"]
    wait = card.locator("tr", has_text="Requester wait")
    assert "Running" in wait.inner_text()
    countdown = wait.locator("time.countdown")
    before = countdown.inner_text()
    # 4 h from 95 minutes ago: 2 h 25 m left (give or take the minute the page took to load).
    assert 143 <= minutes_of(before) <= 145, before
    assert "countdown--ok" in (countdown.get_attribute("class") or "")
    page.wait_for_timeout(2000)
    page.clock.run_for("03:00")
    after = countdown.inner_text()
    assert after != before
    assert minutes_of(before) - minutes_of(after) in (2, 3, 4), (before, after)
    total = card.locator("tr", has_text="Total resolution").locator("time.countdown")
    assert 22 * 60 + 20 <= minutes_of(total.inner_text()) <= 22 * 60 + 25
    breached = card.locator("tr", has_text="First reply")
    assert "Breached" in breached.inner_text()

    # A manual escalation needs a reason; with one, the card shows the level and the history why.
    page.click(".sla-panel summary:has-text('Escalate or de-escalate')")
    assert page.input_value("#id_escalation-level") == "tier2"
    page.click(".sla-panel form button:has-text('Save')")
    page.wait_for_selector("#id_escalation-reason_error:has-text('Say why')")
    page.fill("#id_escalation-reason", "Payroll runs today: Technical support must look at E-1042 now.")
    page.click(".sla-panel form button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('Escalated.')")
    assert "Escalated" in page.inner_text(".sla-panel .escalation")
    ticket.refresh_from_db()
    assert ticket.escalation == "tier2"
    page.click(".history-card summary")
    assert (
        "Nora Lindqvist escalated the ticket from tier 1 to tier 2: "
        "“Payroll runs today: Technical support must look at E-1042 now.”" in page.inner_text(".history")
    )
    assert TicketEvent.objects.filter(ticket=ticket, field="escalation").count() == 1
    page.reload()
    page.click(".history-card summary")
    page.locator(".history").wait_for()
    page.locator(".sla-panel").evaluate("el => el.scrollIntoView({block: 'center'})")
    screenshot(page, "ticket-sla")
    assert page.outside_requests == []


def test_ticket_sla_card_shows_a_breached_target_negative_and_red(page):
    data = desk()
    ticket = sla_ticket(data)
    sign_in(page, MANAGER, f"/tickets/{ticket.pk}")
    breached = page.locator(".sla-panel tr", has_text="First reply")
    breached.wait_for()
    assert "Breached" in breached.inner_text()
    # Due 60 minutes after creation, 95 minutes ago: 35 minutes past, in red (DOMAIN.md, README).
    countdown = breached.locator("time.countdown")
    assert countdown.count() == 1
    assert "countdown--breached" in (countdown.get_attribute("class") or "")
    assert -36 <= minutes_of(countdown.inner_text()) <= -34
    red, green, blue = [int(v) for v in re.findall(r"\d+", countdown.evaluate("el => getComputedStyle(el).color"))][:3]
    assert red > 150 > green + blue


def test_trigger_is_created_and_its_dry_run_lists_matched_tickets(page):
    data = desk()
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully")
    for minutes, subject, priority in (
        (300, "Payroll export fails for every employee", Priority.URGENT),
        (200, "VAT number missing on receipts", Priority.NORMAL),
        (100, "SSO sign-in fails after certificate rotation", Priority.URGENT),
        (50, "Can we pay by bank transfer?", Priority.LOW),
    ):
        factories.ticket(requester=dana, subject=subject, priority=priority, at=ago(minutes))
    technical = data["technical"]
    sign_in(page, MANAGER, "/manage/triggers/")
    assert heading(page) == "Triggers"
    page.click("a.button:has-text('New trigger')")
    page.wait_for_url("**/manage/triggers/new")
    page.fill("#id_name", "Urgent tickets to Technical support")
    page.fill("#id_description", "Urgent problems go straight to the people who can fix them.")
    page.fill("#id_conditions", json.dumps([{"field": "priority", "op": "is", "value": "urgentt"}]))
    actions_json = [{"type": "assign", "team": technical.pk}, {"type": "add_tags", "tags": ["urgent"]}]
    page.fill("#id_actions", json.dumps(actions_json))
    page.click("form button:has-text('Save')")
    error = page.locator("#id_conditions_error")
    error.wait_for()
    assert "conditions[0].value: 'urgentt' is not a priority" in error.inner_text()
    assert not Trigger.objects.exists()

    page.fill("#id_conditions", json.dumps([{"field": "priority", "op": "is", "value": "urgent"}], indent=2))
    page.click("form button:has-text('Save')")
    page.wait_for_selector(".flash:has-text('Trigger “Urgent tickets to Technical support” saved.')")
    trigger = Trigger.objects.get()
    row = page.locator(f"#rule-{trigger.pk}")
    assert "Active" in row.inner_text()
    row.locator("a:has-text('Dry run')").click()
    page.wait_for_url(f"**/manage/triggers/{trigger.pk}/dry-run")
    assert heading(page) == "Dry run: Urgent tickets to Technical support"
    assert "2 tickets matched" in page.inner_text("#main")
    subjects = page.locator("table tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(subjects) == [
        "Payroll export fails for every employee",
        "SSO sign-in fails after certificate rotation",
    ]
    # A dry run changes nothing.
    assert not Ticket.objects.filter(team=technical).exists()
    page.click("a:has-text('Edit trigger')")
    page.wait_for_url(f"**/manage/triggers/{trigger.pk}/")
    assert json.loads(page.input_value("#id_conditions")) == [{"field": "priority", "op": "is", "value": "urgent"}]
    screenshot(page, "triggers")
    assert page.outside_requests == []


def test_team_routing_mode_and_member_capacity(page):
    data = desk()
    billing, maya = data["billing"], data["maya"]
    sign_in(page, MANAGER, "/manage/routing")
    assert heading(page) == "Routing"
    assert page.locator("table tbody tr").count() == 2
    assert "Manual" in page.inner_text(f"#team-{billing.pk}")
    page.click(f"#team-{billing.pk} a:has-text('Billing')")
    page.wait_for_url(f"**/manage/routing/{billing.pk}")
    assert heading(page) == "Routing: Billing"

    page.check("label:has-text('Round-robin') input")
    page.click("button:has-text('Save settings')")
    page.wait_for_selector(".flash:has-text('Routing of Billing saved.')")
    assert page.is_checked("label:has-text('Round-robin') input")

    member = page.locator(f"#member-{maya.pk}")
    member.locator("input[name$=capacity]").fill("0")
    member.locator("button:has-text('Save Maya Chen')").click()
    page.wait_for_selector(f"#member-{maya.pk} .error")
    assert page.locator(f"#member-{maya.pk} .error").count() == 1
    member.locator("input[name$=capacity]").fill("12")
    member.locator("input[name$=skills]").fill("billing, refunds")
    member.locator("button:has-text('Save Maya Chen')").click()
    page.wait_for_selector(".flash:has-text('Routing profile of Maya Chen saved.')")
    assert page.input_value(f"#member-{maya.pk} input[name$=capacity]") == "12"
    billing.refresh_from_db()
    maya.refresh_from_db()
    assert billing.routing_mode == "round_robin"
    assert (maya.capacity, maya.skills) == (12, ["billing", "refunds"])

    page.goto("/manage/routing")
    assert "Round-robin" in page.inner_text(f"#team-{billing.pk}")
    page.goto(f"/manage/routing/{billing.pk}")
    page.wait_for_selector(f"#member-{maya.pk}")
    screenshot(page, "routing")
    assert page.outside_requests == []


def test_webhook_list_and_edit_page_with_the_masked_secret(page, settings):
    # The example hosts are not looked up (the internal-address guard resolves names).
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    data = desk()
    crm = webhooks.create_subscription(
        name="CRM sync",
        url="https://crm.northwind.example/deskpilot/events",
        events=["ticket.created", "ticket.updated", "message.created"],
        created_by=data["nora"],
    )
    webhooks.create_subscription(
        name="Slack #support-alerts",
        url="https://hooks.slack.com/services/T0000/B0000/XXXXXXXX",
        events=["sla.warning", "sla.breached", "ticket.escalated"],
        format=WebhookFormat.SLACK,
        created_by=data["nora"],
    )
    old = webhooks.create_subscription(
        name="Teams: billing channel",
        url="https://northwind.webhook.office.com/webhookb2/billing",
        events=["ticket.escalated"],
        format=WebhookFormat.TEAMS,
        created_by=data["nora"],
    )
    webhooks.set_subscription_active(old, False)

    sign_in(page, MANAGER, "/manage/webhooks/")
    assert heading(page) == "Webhooks"
    rows = page.locator(".webhook-table tbody tr")
    assert rows.count() == 3
    assert page.locator(".webhook-table tbody tr td:first-child").all_inner_texts() == [
        "CRM sync",
        "Slack #support-alerts",
        "Teams: billing channel",
    ]
    assert "hooks.slack.com" in page.inner_text(".webhook-table")
    assert page.locator(".webhook-table tr.is-inactive").count() == 1
    screenshot(page, "webhooks")

    page.click("a:has-text('CRM sync')")
    page.wait_for_url(f"**/manage/webhooks/{crm.pk}/")
    assert heading(page) == "CRM sync"
    assert page.input_value("#id_url") == "https://crm.northwind.example/deskpilot/events"
    masked = page.inner_text("#secret code")
    assert masked.endswith(crm.secret[-4:])
    assert "••••" in masked
    assert crm.secret not in masked
    # The full secret only after asking for it.
    assert not page.is_visible("#secret-value")
    page.click("#secret summary")
    assert page.is_visible("#secret-value")
    assert page.input_value("#secret-value") == crm.secret
    assert page.outside_requests == []


def test_agent_opens_a_notification_from_the_bell(page):
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully")
    tickets = [
        factories.ticket(requester=dana, subject=subject, at=ago(minutes))
        for minutes, subject in ((120, "Payroll export fails"), (60, "VAT number missing on receipts"))
    ]
    notices = [
        notify(maya, tickets[0], "SLA breached: first reply on #1", minutes=30),
        notify(maya, tickets[1], "Nora Lindqvist escalated #2 to you", minutes=20),
        notify(maya, None, "Your weekly summary is ready", minutes=10),
    ]
    Notification.objects.create(user=maya, ticket=tickets[1], subject="Read long ago", read_at=ago(5))

    sign_in(page, maya.email, "/inbox")
    bell = page.locator(".notification-bell")
    assert bell.locator(".notification-count").inner_text() == "3"
    assert bell.get_attribute("aria-label") == "Notifications, 3 unread"
    bell.click()
    page.wait_for_url("**/notifications")
    assert heading(page) == "Notifications"
    assert page.locator("tr.notification--unread").count() == 3
    assert page.locator("tr.notification--read").count() == 1
    page.locator(f"#notification-{notices[1].pk} button:has-text('Open ticket')").click()
    page.wait_for_url(f"**/tickets/{tickets[1].pk}")
    assert heading(page) == "VAT number missing on receipts"
    assert page.locator(".notification-bell .notification-count").inner_text() == "2"
    assert page.get_attribute(".notification-bell", "aria-label") == "Notifications, 2 unread"
    notices[1].refresh_from_db()
    assert notices[1].read_at is not None

    page.goto("/notifications?show=unread")
    assert page.locator("tr.notification--unread").count() == 2
    assert page.locator(f"#notification-{notices[1].pk}").count() == 0
    assert page.outside_requests == []


def notify(user: User, ticket: Ticket | None, subject: str, *, minutes: float) -> Notification:
    return Notification.objects.create(
        user=user, ticket=ticket, subject=subject, text="", cause="sla:breach", created_at=ago(minutes)
    )


def test_operations_page_shows_the_day_live_with_its_chart(page):
    data = desk()
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully")
    for minutes, subject, priority, team in (
        (300, "Payroll export fails for every employee", Priority.URGENT, data["technical"]),
        (200, "VAT number missing on receipts", Priority.NORMAL, data["billing"]),
        (100, "SSO sign-in fails after certificate rotation", Priority.HIGH, data["technical"]),
        (50, "Can we pay by bank transfer?", Priority.LOW, None),
        (20, "Invoice shows the wrong company name", Priority.NORMAL, data["billing"]),
    ):
        ticket = factories.ticket(requester=dana, subject=subject, priority=priority, at=ago(minutes))
        if team is not None:
            actions.update_ticket(ticket, actor=data["nora"], via=Via.WEB, changes={"team": team})
    solved = factories.ticket(requester=dana, subject="Where do I change my password?", at=ago(90))
    actions.add_message(solved, actor=data["maya"], via=Via.WEB, body_text="Settings → Security.", status="solved")
    sign_in(page, MANAGER, "/inbox")
    page.click(".topnav a:has-text('Operations')")
    page.wait_for_url("**/analytics/operations")
    assert heading(page) == "Operations, live"
    assert page.inner_text("[data-figure=backlog]") == "5"
    assert page.inner_text("[data-figure=unassigned]") == "5"
    assert page.inner_text("[data-figure=solved_today]") == "1"
    # The chart replaces its table fallback once Chart.js has drawn it.
    page.wait_for_selector("[data-ops-chart]:not([hidden]) canvas")
    assert page.locator("[data-ops-chart] canvas").bounding_box()["height"] > 100
    screenshot(page, "operations")
    # A count leads to exactly its tickets.
    page.click("[data-table=priority] tr:has-text('Normal') a")
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("text=VAT number missing on receipts").count() == 1
    assert page.locator("text=Invoice shows the wrong company name").count() == 1
    assert page.locator("text=Payroll export fails").count() == 0
    assert page.outside_requests == []
