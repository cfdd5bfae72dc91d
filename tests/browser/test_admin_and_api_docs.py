"""The admin and the API documentation in a real browser; also takes the README's screenshots.

The data is a small, believable help desk with fixed times and ticket numbers from 1, so the
screenshots only change when the pages do.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Message, Priority, Status, Ticket, Via
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ticket numbers start at 1 in every run, on SQLite and PostgreSQL alike. Naming the apps
    # makes the flush after each test cascade, which PostgreSQL needs: the full-text table
    # (core.search, not a model) has a foreign key to tickets, and a plain TRUNCATE refuses.
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MONDAY = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)
STAFF_ERROR = "Please enter the correct email and password for a staff account."


def at(hours: float) -> datetime.datetime:
    return MONDAY + datetime.timedelta(hours=hours)


def help_desk() -> dict[str, object]:
    """Three agents in two teams, customers from three companies, eight tickets in every state."""
    admin = factories.user(Role.ADMIN, email="alex@deskpilot.test", name="Alex Morgan")
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    jonas = factories.user(Role.AGENT, email="jonas@deskpilot.test", name="Jonas Weber")
    priya = factories.user(Role.AGENT, email="priya@deskpilot.test", name="Priya Nair")
    billing = factories.team(name="Billing", members=[maya])
    support = factories.team(name="Technical support", members=[jonas, priya])
    northwind = factories.organization(name="Northwind Traders", tier="premium", domains=["northwind.test"])
    globex = factories.organization(name="Globex", tier="enterprise", domains=["globex.test"])
    initech = factories.organization(name="Initech", domains=["initech.test"])
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully", organization=northwind)
    walter = factories.customer(email="walter.bishop@globex.test", name="Walter Bishop", organization=globex)
    peter = factories.customer(email="peter.gibbons@initech.test", name="Peter Gibbons", organization=initech)
    leslie = factories.customer(email="leslie.knope@pawnee.test", name="Leslie Knope")

    plan = [
        # requester, subject, first message, priority, hours after Monday 08:00, team, assignee, status
        (dana, "Invoice INV-4821 was charged twice", "Our card was debited twice for the March invoice.",
         Priority.HIGH, 1.2, billing, maya, Status.OPEN),
        (walter, "SSO sign-in fails after certificate rotation", "Since this morning every login ends in error 500.",
         Priority.URGENT, 1.9, support, jonas, Status.OPEN),
        (peter, "Export to CSV cuts off after 10,000 rows", "The file stops at row 10,000 without a warning.",
         Priority.NORMAL, 2.4, support, priya, Status.PENDING),
        (leslie, "How do I add a second admin to our account?", "We need a backup administrator for holidays.",
         Priority.LOW, 3.1, None, None, Status.NEW),
        (dana, "VAT number missing on receipts", "Our accountant needs the VAT ID printed on each receipt.",
         Priority.NORMAL, 4.5, billing, maya, Status.SOLVED),
        (walter, "Webhook deliveries delayed by 20 minutes", "Order events arrive long after the order is placed.",
         Priority.HIGH, 5.2, support, jonas, Status.ON_HOLD),
        (peter, "Printer jams on every page of the shipping labels", "Label printing jams since the last update.",
         Priority.NORMAL, 6.0, support, None, Status.NEW),
        (leslie, "Request a copy of our data (GDPR)", "Please send everything you store about our team.",
         Priority.NORMAL, 6.7, None, None, Status.NEW),
    ]  # fmt: skip
    for requester, subject, body, priority, hours, team, assignee, status in plan:
        ticket = actions.create_ticket(
            actor=requester, via=Via.EMAIL, subject=subject, body_text=body, requester=requester, at=at(hours)
        )
        changes: dict[str, object] = {"priority": priority}
        if team is not None:
            changes["team"] = team
        if assignee is not None:
            changes["assignee"] = assignee
        if changes:
            actions.update_ticket(ticket, actor=admin, via=Via.WEB, changes=changes, at=at(hours + 0.2))
        if status != Status.NEW:
            who = assignee or admin
            actions.add_message(
                ticket,
                actor=who,
                via=Via.WEB,
                body_text=f"Hi {requester.name.split()[0]}, thanks for the report. I am looking into it now.",
                status=status,
                at=at(hours + 0.5),
            )
    return {"admin": admin, "agent": maya, "support": support}


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    page.goto("/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("input[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def test_admin_signs_in_and_reads_tickets_but_cannot_edit_them(page):
    help_desk()
    sign_in(page, "alex@deskpilot.test")
    assert page.url.endswith("/admin/")

    page.goto("/admin/tickets/ticket/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 8
    assert rows.first.inner_text().startswith("#8")
    assert "SSO sign-in fails after certificate rotation" in page.inner_text("#result_list")
    # Read-only: no "Add ticket" button and no bulk-action checkboxes.
    assert page.locator('a[href$="/tickets/ticket/add/"]').count() == 0
    assert page.locator("input.action-select").count() == 0
    screenshot(page, "admin-tickets")

    page.click("text=SSO sign-in fails after certificate rotation")
    page.wait_for_selector("text=Since this morning every login ends in error 500.")
    assert page.locator("input[name=subject]").count() == 0
    assert page.locator("select[name=status]").count() == 0
    assert page.locator("input[name=_save]").count() == 0
    screenshot(page, "admin-ticket")
    assert page.outside_requests == []


def test_managers_may_use_the_admin_agents_and_customers_may_not(page):
    factories.user(Role.MANAGER, email="manager@deskpilot.test", name="Morgan Manager")
    factories.user(Role.AGENT, email="agent@deskpilot.test", name="Avery Agent")
    factories.customer_user(email="customer@example.test")

    for email in ("agent@deskpilot.test", "customer@example.test"):
        sign_in(page, email)
        assert "/admin/login/" in page.url, email
        assert STAFF_ERROR in page.inner_text(".errornote"), email
        # Not signed in: the admin index sends them back to the sign-in form.
        page.goto("/admin/")
        assert "/admin/login/" in page.url

    sign_in(page, "manager@deskpilot.test")
    assert page.url.endswith("/admin/")
    assert "Help desk configuration" in page.inner_text("#content")
    page.goto("/admin/tickets/ticket/")
    assert page.locator("#result_list").count() == 1 or "0 tickets" in page.inner_text("#content")


def test_hostile_message_renders_inert_in_the_admin(page):
    admin = factories.user(Role.ADMIN, email="alex@deskpilot.test")
    requester = factories.customer(email="mallory@example.test", name="Mallory <b>Evil</b>")
    ticket = factories.ticket(
        requester=requester,
        subject="<img src=x onerror=alert('subject')>",
        body_html='<p>Look <img src=x onerror="alert(\'html\')"></p><script>alert("script")</script>',
        at=at(1),
    )
    actions.add_message(
        ticket, actor=requester, via=Via.EMAIL, body_text="<script>alert('text')</script> plain text", at=at(2)
    )
    # A row written outside the actions (an import, a restore) skips sanitising: the admin must
    # still not run it.
    raw = actions.add_message(ticket, actor=requester, via=Via.EMAIL, body_text="raw", at=at(3))
    Message.objects.filter(pk=raw.pk).update(body_html="<img src=x onerror=\"alert('raw')\"><script>alert(1)</script>")

    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, admin.email)
    page.goto(f"/admin/tickets/ticket/{ticket.pk}/change/")
    page.wait_for_load_state("load")
    page.goto("/admin/tickets/ticket/")
    page.wait_for_load_state("load")
    page.goto(f"/admin/customers/customer/{requester.pk}/change/")
    page.wait_for_load_state("load")
    page.goto(f"/admin/tickets/ticket/{ticket.pk}/change/")
    page.wait_for_load_state("load")
    assert dialogs == []
    # The text survives as text: escaped, visible, inert.
    assert "<script>alert('text')</script> plain text" in page.inner_text("#content")
    assert page.locator("script", has_text="alert").count() == 0
    assert page.locator("img[onerror]").count() == 0
    assert Ticket.objects.get(pk=ticket.pk).subject.startswith("<img")


def test_api_docs_render_offline(page):
    # django-ninja serves Swagger UI from its bundled static files only when "ninja" is an
    # installed app; otherwise the page loads it from a CDN, which the page fixture blocks.
    page.goto("/api/v1/docs")
    title = page.wait_for_selector(".swagger-ui .info .title")
    assert title is not None
    assert "Deskpilot API" in title.inner_text()
    # The operations are listed from the OpenAPI document generated from the code.
    page.wait_for_selector(".opblock-tag-section")
    assert re.search(r"tickets", page.inner_text(".swagger-ui"), re.IGNORECASE)
    assert page.outside_requests == []
    screenshot(page, "api-docs")
