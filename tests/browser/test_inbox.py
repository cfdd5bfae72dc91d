"""The inbox in a real browser: an agent signs in, filters a view, saves it and uses it,
bulk-updates two tickets (status and assignee), and searches. Takes the README's `inbox` and
`search` screenshots with a desk of about thirty tickets."""

from __future__ import annotations

import datetime
import itertools
import re
from typing import Any

import pytest
from django.conf import settings

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, SavedView, Status, Ticket, TicketEvent, Via
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

START = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)

SUBJECTS = [
    ("Invoice INV-4821 was charged twice", "Our card was debited twice for the March invoice.", "billing"),
    ("SSO sign-in fails after certificate rotation", "Every login ends in error 500 since this morning.", "support"),
    ("Export to CSV cuts off after 10,000 rows", "The file stops at row 10,000 without a warning.", "support"),
    ("How do I add a second admin to our account?", "We need a backup administrator for holidays.", None),
    ("VAT number missing on receipts", "Our accountant needs the VAT ID printed on each receipt.", "billing"),
    ("Webhook deliveries delayed by 20 minutes", "Order events arrive long after the order is placed.", "support"),
    ("Printer jams on every page of the shipping labels", "Label printing jams since the last update.", "support"),
    ("Request a copy of our data (GDPR)", "Please send everything you store about our team.", None),
    ("Refund for the unused seats", "We reduced our team from 40 to 25 people last month.", "billing"),
    ("Password reset email never arrives", "Checked spam too; nothing from you.", "support"),
    ("Can we pay by bank transfer?", "Our finance team cannot use credit cards.", "billing"),
    ("Dashboard shows yesterday's numbers", "The sales dashboard is stuck on Monday.", "support"),
    ("Upgrade to the annual plan", "What discount do we get if we pay yearly?", "billing"),
    ("API returns 429 during the nightly sync", "Our import job hits the rate limit at 02:00.", "support"),
    ("Wrong company address on the invoice", "Please change it to our new office in Leeds.", "billing"),
    ("Mobile app crashes when opening attachments", "iOS 18, every PDF attachment closes the app.", "support"),
    ("Add our new domain to single sign-on", "We moved from acme.test to acme-group.test.", "support"),
    ("Cancel the trial before it converts", "We decided not to continue, thanks.", "billing"),
    ("Search does not find older tickets", "Anything before January is missing from results.", "support"),
    ("Two-factor codes rejected", "The authenticator codes are always 'invalid'.", "support"),
    ("Credit note for the outage in March", "Our SLA promises a credit for downtime.", "billing"),
    ("Slow page loads from the Singapore office", "Pages take 8 seconds to open in Asia.", "support"),
    ("Change the owner of our workspace", "Our previous admin has left the company.", None),
    ("Duplicate contacts after the CRM import", "Every customer appears twice now.", "support"),
    ("Receipt needed for expense report", "Can you resend the receipt for order 5512?", "billing"),
    ("Calendar integration stopped syncing", "No new events since the Google update.", "support"),
    ("Where can I download the DPA?", "Legal needs the data processing agreement.", None),
    ("Bulk edit of products times out", "Editing more than 200 products gives a timeout.", "support"),
    ("Charge in USD instead of EUR", "We are billed in the wrong currency.", "billing"),
    ("Invite link expired for new hire", "The invitation says it is no longer valid.", "support"),
]
STATUSES = [Status.NEW, Status.OPEN, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.OPEN]
PRIORITIES = [Priority.NORMAL, Priority.HIGH, Priority.NORMAL, Priority.URGENT, Priority.LOW, Priority.NORMAL]


def help_desk() -> dict[str, Any]:
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    jonas = factories.user(Role.AGENT, email="jonas@deskpilot.test", name="Jonas Weber")
    priya = factories.user(Role.AGENT, email="priya@deskpilot.test", name="Priya Nair")
    admin = factories.user(Role.ADMIN, email="alex@deskpilot.test", name="Alex Morgan")
    teams = {
        "billing": factories.team(name="Billing", members=[maya, priya]),
        "support": factories.team(name="Technical support", members=[maya, jonas, priya]),
    }
    organizations = [
        factories.organization(name=n, domains=[d])
        for n, d in (("Northwind Traders", "northwind.test"), ("Globex", "globex.test"), ("Initech", "initech.test"))
    ]
    people = [
        factories.customer(email=e, name=n, organization=o)
        for (n, e), o in zip(
            [
                ("Dana Scully", "dana@northwind.test"),
                ("Walter Bishop", "walter@globex.test"),
                ("Peter Gibbons", "peter@initech.test"),
                ("Leslie Knope", "leslie@northwind.test"),
                ("Ron Swanson", "ron@globex.test"),
            ],
            itertools.cycle(organizations),
            strict=False,
        )
    ]
    assignees = itertools.cycle([maya, jonas, None, priya, maya, None])
    for i, (subject, body, team_key) in enumerate(SUBJECTS):
        at = START + datetime.timedelta(minutes=70 * i)
        requester = people[i % len(people)]
        ticket = actions.create_ticket(
            actor=requester, via=Via.EMAIL, subject=subject, body_text=body, requester=requester, at=at
        )
        assignee = next(assignees)
        team = teams[team_key] if team_key else None
        changes: dict[str, Any] = {"priority": PRIORITIES[i % len(PRIORITIES)]}
        if team is not None:
            changes["team"] = team
        if assignee is not None and team is not None:
            changes["assignee"] = assignee
        if i % 4 == 0:
            changes["add_tags"] = ["vip"] if i % 8 == 0 else ["billing-question"]
        actions.update_ticket(ticket, actor=admin, via=Via.WEB, changes=changes, at=at + datetime.timedelta(minutes=5))
        status = STATUSES[i % len(STATUSES)]
        if status != Status.NEW:
            actions.add_message(
                ticket,
                actor=changes.get("assignee") or admin,
                via=Via.WEB,
                body_text=f"Hi {requester.name.split()[0]}, thanks for writing. Looking into it now.",
                status=status,
                at=at + datetime.timedelta(minutes=20),
            )
    return {"maya": maya, "jonas": jonas}


def sign_in(page, email: str) -> None:
    page.goto("/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/inbox")


def row_numbers(page) -> list[int]:
    return [int(v.rsplit("/", 1)[1]) for v in page.locator("tr[data-row-link]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-row-link'))"
    )]  # fmt: skip


def test_agent_works_the_inbox(page) -> None:
    people = help_desk()
    maya = people["maya"]
    sign_in(page, "maya@deskpilot.test")

    # Her open tickets, with the views and their counts on the left.
    assert page.inner_text("h1").startswith("My open tickets")
    mine = Ticket.objects.filter(assignee=maya, status__in=["new", "open", "pending", "on_hold"]).count()
    assert len(row_numbers(page)) == mine > 0
    page.click(".sidebar a:has-text('All open')")
    page.wait_for_url("**/inbox/all-open")
    unsolved = Ticket.objects.filter(status__in=["new", "open", "pending", "on_hold"]).count()
    assert len(row_numbers(page)) == unsolved
    assert page.inner_text(".sidebar a[aria-current=page] .count") == str(unsolved)
    screenshot(page, "inbox")

    # Keyboard: j moves to the first row, Enter would open it.
    page.locator("body").press("j")
    assert page.evaluate("document.activeElement.getAttribute('data-row-link')") is not None

    # Filter (htmx swaps the table and pushes the URL), then save the view and use it.
    page.select_option("#filter-priority", "urgent")
    page.wait_for_url(re.compile(r".*priority=urgent.*"))
    page.wait_for_function("document.querySelectorAll('tr[data-row-link] .priority--urgent').length > 0")
    urgent = Ticket.objects.filter(priority="urgent", status__in=["new", "open", "pending", "on_hold"])
    assert sorted(row_numbers(page)) == sorted(t.pk for t in urgent)
    page.click("summary:has-text('Save this view')")
    page.click("button:has-text('Save view')")  # empty name: the error is next to the field
    assert page.inner_text("#id_name_error") == "must not be empty"
    page.fill("#id_name", "Urgent and open")
    page.click("button:has-text('Save view')")
    page.wait_for_url("**/inbox/saved/*")
    assert "Saved the view" in page.inner_text(".flash-stack")
    assert SavedView.objects.get(owner=maya).filters == {"view": "all-open", "priority": ["urgent"]}
    page.click(".sidebar a:has-text('All open')")
    page.click(".sidebar a:has-text('Urgent and open')")
    page.wait_for_url("**/inbox/saved/*")
    assert sorted(row_numbers(page)) == sorted(t.pk for t in urgent)

    # Bulk: select two tickets, set them pending, then assign them to Jonas.
    page.click(".sidebar a:has-text('Unassigned')")
    page.wait_for_url("**/inbox/unassigned")
    first, second = row_numbers(page)[:2]
    page.check(f"#select-{first}")
    page.check(f"#select-{second}")
    assert page.inner_text(".bulk-count") == "2 selected"
    page.select_option("#bulk-status", "pending")
    page.click("button[value=status]")
    page.wait_for_url("**/inbox/unassigned")
    assert "2 tickets updated." in page.inner_text(".flash-stack")
    page.check(f"#select-{first}")
    page.check(f"#select-{second}")
    page.select_option("#bulk-assignee", label="Jonas Weber")
    page.click("button[value=assign]")
    page.wait_for_url("**/inbox/unassigned")
    assert "2 tickets updated." in page.inner_text(".flash-stack")
    for number in (first, second):
        ticket = Ticket.objects.get(pk=number)
        assert (ticket.status, ticket.assignee_id) == (Status.PENDING, people["jonas"].pk)
        assert TicketEvent.objects.filter(ticket=ticket, field__in=["status", "assignee"], via=Via.WEB).count() >= 2
    assert first not in row_numbers(page)  # no longer unassigned

    # "Select all on this page" checks every row.
    page.check("input[aria-label='Select all on this page']")
    assert page.inner_text(".bulk-count") == f"{len(row_numbers(page))} selected"

    # Search from the keyboard: "/" focuses the box.
    page.goto("/search")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.type("invoice")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=invoice")
    page.wait_for_selector("tr[data-row-link]")
    subjects = page.inner_text(".ticket-table tbody")
    assert "Invoice INV-4821 was charged twice" in subjects
    assert "Wrong company address on the invoice" in subjects
    assert page.locator(".snippet mark").count() >= 1
    screenshot(page, "search")
    assert page.outside_requests == []
