"""The customer portal in a real browser: a customer signs in, sends a request with a file,
follows it, reads the agent's reply (never the internal note) and answers; script in a request
stays inert; the public form works without an account. Takes the README's portal screenshots.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Message, Status, Ticket, Via
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ticket numbers from 1 in every run (see test_admin_and_api_docs.py for why the apps are named).
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
PHONE = {"width": 390, "height": 844}


def days_ago(days: float) -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=days)


def earlier_requests(customer, agent) -> None:
    """A few requests in different states, so My requests looks like a real customer's."""
    plan = [
        ("Invoice INV-4821 was charged twice", "Our card was debited twice for March.", 20, Status.SOLVED),
        ("Add a second admin to our account", "We need a backup administrator.", 9, Status.PENDING),
        ("VAT number missing on receipts", "Our accountant needs the VAT ID on each receipt.", 4, Status.ON_HOLD),
        ("Export to CSV stops at 10,000 rows", "The file ends at row 10,000 without a warning.", 2, Status.OPEN),
    ]
    for subject, body, age, status in plan:
        ticket = actions.create_ticket(
            actor=customer, via=Via.WEB, channel="portal", subject=subject, body_text=body,
            requester=customer, at=days_ago(age),
        )  # fmt: skip
        actions.add_message(
            ticket,
            actor=agent,
            via=Via.WEB,
            body_text=f"Hi {customer.name.split()[0]}, thanks for writing. We are on it.",
            status=status,
            at=days_ago(age - 0.5),
        )


def watch_dialogs(page) -> list[str]:
    """The messages of any alert() the page tries to show (dismissed)."""
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def sign_in(page, email: str) -> None:
    page.goto("/signin")
    form = page.locator('form[action="/signin"]')
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(factories.PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("domcontentloaded")


def test_customer_sends_follows_and_answers_a_request(page) -> None:
    dialogs = watch_dialogs(page)
    organization = factories.organization(name="Northwind Traders")
    account = factories.customer_user(email="dana.scully@northwind.test", organization=organization)
    customer = account.customer
    customer.name = account.name = "Dana Scully"
    customer.save()
    account.save()
    agent = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    earlier_requests(customer, agent)

    sign_in(page, "dana.scully@northwind.test")
    assert page.url.endswith("/portal/tickets")

    # A new request with a file.
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Subject").fill("Label printer jams on every page")
    page.get_by_label("Description").fill("Since the update the printer jams on each shipping label.")
    page.set_input_files(
        "#id_attachments", files=[{"name": "printer-log.txt", "mimeType": "text/plain", "buffer": b"jam at 10:02"}]
    )
    page.get_by_role("button", name="Send request").click()
    page.wait_for_selector(".flash")
    ticket = Ticket.objects.get(subject="Label printer jams on every page")
    assert page.url.endswith(f"/portal/tickets/{ticket.pk}")
    assert f"Request #{ticket.pk} received." in page.inner_text(".flash-stack")
    assert page.locator(".attachments a", has_text="printer-log.txt").count() == 1

    # It is listed in My requests, open.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    row = page.locator("tr", has_text="Label printer jams on every page")
    assert "Open" in row.inner_text()
    assert page.locator("tbody tr").count() == 5
    screenshot(page, "portal")
    # The open/solved filter swaps the list in place (htmx) and keeps the address bar in step.
    page.get_by_role("link", name="Solved", exact=True).click()
    page.wait_for_url("**state=solved**")
    page.wait_for_function("document.querySelectorAll('#ticket-list tbody tr').length === 1")
    assert "Invoice INV-4821 was charged twice" in page.inner_text("#ticket-list")

    # The agent answers in public and writes an internal note.
    actions.add_message(
        ticket, actor=agent, via=Via.WEB, status=Status.PENDING,
        body_text="Hi Dana, thanks for the log. Could you send a photo of the label path?",
    )  # fmt: skip
    actions.add_message(
        ticket, actor=agent, via=Via.WEB, public=False, body_text="INTERNAL NOTE: firmware 2.1 bug, do not promise a date"
    )  # fmt: skip

    page.goto(f"/portal/tickets/{ticket.pk}")
    conversation = page.inner_text(".conversation")
    assert "Could you send a photo of the label path?" in conversation
    assert "Maya Chen" in conversation
    assert "INTERNAL NOTE" not in page.content()
    assert page.inner_text("#ticket-status") == "Awaiting your reply"
    # The file downloads with the customer's session.
    href = page.locator(".attachments a", has_text="printer-log.txt").get_attribute("href")
    assert href is not None
    download = page.request.get(href)
    assert (download.status, download.body()) == (200, b"jam at 10:02")

    # The customer answers; the request is open again.
    page.get_by_label("Your reply").fill("Here is the photo you asked for.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_selector(".flash")
    assert "Your reply was sent." in page.inner_text(".flash-stack")
    assert page.inner_text("#ticket-status") == "Open"
    assert "Here is the photo you asked for." in page.inner_text(".conversation")
    assert "INTERNAL NOTE" not in page.content()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "portal-ticket")

    # On a phone: the list reads as cards.
    page.set_viewport_size(PHONE)
    page.goto("/portal/tickets")
    screenshot(page, "portal-phone")
    assert page.locator("thead").is_hidden()
    assert dialogs == []
    assert page.outside_requests == []


def test_script_in_a_request_stays_inert(page) -> None:
    dialogs = watch_dialogs(page)
    factories.customer_user(email="mallory@example.test")
    agent = factories.user(Role.AGENT)

    sign_in(page, "mallory@example.test")
    page.goto("/portal/new")
    page.get_by_label("Subject").fill(f"Hello {HOSTILE}")
    page.get_by_label("Description").fill(f"Body {HOSTILE}")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_selector(".flash")
    ticket = Ticket.objects.get()
    # An agent's reply quoting it, as HTML, is sanitised when stored.
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_html=f"<p>You wrote: {HOSTILE}</p>")
    page.reload()
    page.wait_for_load_state("load")
    page.goto("/portal/tickets")
    page.wait_for_load_state("load")
    page.goto(f"/portal/tickets/{ticket.pk}")
    page.wait_for_load_state("load")
    # Let a would-be onerror handler fire.
    page.wait_for_timeout(300)

    assert dialogs == []
    assert f"Hello {HOSTILE}" in page.inner_text("h1")
    assert f"Body {HOSTILE}" in page.inner_text(".conversation")
    assert page.locator("main script").count() == 0
    assert page.locator("img[onerror]").count() == 0
    for body in Message.objects.values_list("body_html", flat=True):
        assert "<script" not in body
        assert re.search(r"<[^>]*onerror", body) is None


def test_public_request_form_works_without_an_account(page) -> None:
    page.goto("/request")
    assert page.locator(".topnav").count() == 0
    page.get_by_label("Your name").fill("Leslie Knope")
    page.get_by_label("Your email").fill("leslie.knope@pawnee.test")
    page.get_by_label("Subject").fill("How do I add a second admin?")
    page.get_by_label("Description").fill("We need a backup administrator for the holidays.")
    page.set_input_files(
        "#id_attachments", files=[{"name": "team.csv", "mimeType": "text/csv", "buffer": b"name\nLeslie\nBen\n"}]
    )
    # The honeypot is out of sight and out of the tab order.
    assert not page.locator("#id_website").is_visible() or page.locator("#id_website").bounding_box()["x"] < 0
    assert page.locator("#id_website").get_attribute("tabindex") == "-1"
    page.evaluate("document.activeElement.blur()")
    screenshot(page, "public-request")
    # People take more than a few seconds to fill a form; the form refuses faster senders.
    page.wait_for_timeout(3200)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/request/thanks")

    ticket = Ticket.objects.get()
    assert f"#{ticket.pk}" in page.inner_text(".portal-number")
    assert ticket.requester.primary_email == "leslie.knope@pawnee.test"
    assert ticket.channel == "web"
    assert [a.filename for a in Message.objects.get().attachments.all()] == ["team.csv"]
    assert page.get_by_role("button", name="Email me a link").count() == 1
    assert page.outside_requests == []
