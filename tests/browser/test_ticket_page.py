"""The agent's ticket page in a real browser: sign in, reply, add an internal note, change status
and assignee (htmx swaps, Alpine.js composer); hostile customer HTML stays inert. Takes the
README's `ticket` and `ticket-phone` screenshots."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.attachments import IncomingFile
from deskpilot.tickets.models import Message, Priority, Status, Ticket, Via
from tests import factories
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Ticket numbers from 1 on both databases, so the screenshots only change when the page does.
    pytest.mark.django_db(transaction=True, reset_sequences=True, available_apps=settings.INSTALLED_APPS),
]

MONDAY = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


def at(hours: float) -> datetime.datetime:
    return MONDAY + datetime.timedelta(hours=hours)


def conversation() -> dict[str, object]:
    """A billing ticket worked for a morning: six messages, one of them an internal note, one
    with a screenshot attached; the requester has two earlier tickets."""
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    jonas = factories.user(Role.AGENT, email="jonas@deskpilot.test", name="Jonas Weber")
    factories.user(Role.AGENT, email="priya@deskpilot.test", name="Priya Nair")
    billing = factories.team(name="Billing", members=[maya, jonas])
    factories.team(name="Technical support", members=[jonas])
    northwind = factories.organization(name="Northwind Traders", tier="premium", domains=["northwind.test"])
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully", organization=northwind)
    dana.time_zone = "America/New_York"
    dana.save()
    for hours, subject in ((-400, "Change the billing address"), (-90, "Add a second admin")):
        old = actions.create_ticket(
            actor=dana, via=Via.EMAIL, subject=subject, body_text="Please help.", requester=dana, at=at(hours)
        )
        actions.add_message(old, actor=maya, via=Via.WEB, body_text="Done!", status=Status.SOLVED, at=at(hours + 1))
    ticket = actions.create_ticket(
        actor=dana,
        via=Via.EMAIL,
        subject="Invoice INV-4821 was charged twice",
        body_text="Hello,\n\nour card was debited twice for the March invoice (INV-4821). Could you refund one of them?",
        requester=dana,
        at=at(1),
    )
    actions.update_ticket(
        ticket,
        actor=maya,
        via=Via.WEB,
        changes={"team": billing, "assignee": maya, "priority": Priority.HIGH, "tags": ["billing", "refund"]},
        at=at(1.2),
    )
    actions.add_message(
        ticket,
        actor=maya,
        via=Via.WEB,
        body_text="Hi Dana, sorry about that. Could you send a screenshot of the two charges on your statement?",
        status=Status.PENDING,
        at=at(1.5),
    )
    actions.add_message(
        ticket,
        actor=dana,
        via=Via.EMAIL,
        body_text="Here it is: both charges are on March 1st.",
        attachments=[IncomingFile("statement-march.png", _png(), "image/png")],
        at=at(2.4),
    )
    actions.add_message(
        ticket,
        actor=maya,
        via=Via.WEB,
        public=False,
        body_text="Payment provider shows a retry after a timeout: the second capture is a duplicate. Refund it.",
        at=at(2.6),
    )
    actions.add_message(
        ticket,
        actor=maya,
        via=Via.WEB,
        body_text="Thanks Dana. The second charge was a duplicate; we refunded it today. It takes 3 to 5 days to appear.",
        at=at(2.8),
    )
    actions.add_message(ticket, actor=dana, via=Via.EMAIL, body_text="Great, thank you for the quick help!", at=at(3.5))
    return {"maya": maya, "jonas": jonas, "ticket": ticket}


def _png() -> bytes:
    # A 1x1 PNG: real bytes, so the attachments module recognises the type.
    return bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360f80f000001010000ffff03000006000557bfabd40000000049454e44ae426082"
    )


def sign_in(page, email: str, next_url: str) -> None:
    page.goto(f"/signin?next={next_url}")
    page.fill("input[name=email] >> nth=0", email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state("domcontentloaded")


def test_agent_replies_adds_a_note_and_changes_status_and_assignee(page):
    data = conversation()
    ticket = data["ticket"]
    assert isinstance(ticket, Ticket)
    # From the inbox, as an agent starts the day: her open tickets, then this one.
    sign_in(page, "maya@deskpilot.test", "/inbox")
    assert page.url.endswith("/inbox")
    page.click(".ticket-table a:has-text('Invoice INV-4821 was charged twice')")
    page.wait_for_url(f"**/tickets/{ticket.pk}")
    page.wait_for_selector("h1:has-text('Invoice INV-4821 was charged twice')")
    assert page.locator(".message").count() == 6
    assert page.locator(".message--internal").count() == 1
    assert "Internal note" in page.inner_text(".message--internal")
    assert page.locator("a.attachment", has_text="statement-march.png").count() == 1
    page.wait_for_function("() => window.Alpine !== undefined")
    screenshot(page, "ticket")

    # Sending nothing: htmx swaps in the 422 answer, the error next to the field.
    page.click("#composer button[type=submit]")
    page.wait_for_selector("#id_reply-body_error:has-text('Write a message before sending it.')")
    assert page.locator(".message").count() == 6

    # A public reply, with "c" to jump into the composer; htmx swaps the conversation in place.
    page.click("h1")
    page.keyboard.press("c")
    assert page.evaluate("document.activeElement.name") == "reply-body"
    page.keyboard.type("We will also waive this month's fee.")
    page.click("#composer button[type=submit]")
    page.wait_for_selector(".flash:has-text('Reply sent.')")
    assert page.locator(".message").count() == 7
    assert page.input_value("[data-reply-input]") == ""
    assert "We will also waive this month's fee." in page.inner_text(".message--agent >> nth=-1")

    # An internal note: the composer turns yellow before sending.
    page.click("label:has-text('Internal note')")
    page.wait_for_selector("#composer.composer--internal")
    assert page.inner_text("#composer button[type=submit]") == "Add internal note"
    page.fill("[data-reply-input]", "Finance approved the fee waiver.")
    page.click("#composer button[type=submit]")
    page.wait_for_selector(".flash:has-text('Internal note added.')")
    assert page.locator(".message--internal").count() == 2
    assert "Finance approved the fee waiver." in page.inner_text(".message--internal >> nth=-1")

    # Status and assignee in the side panel; assignees outside the chosen team are not offered.
    page.select_option("#id_status", "solved")
    page.select_option("#id_team", label="Technical support")
    page.wait_for_function("() => document.querySelector('#id_assignee').value === ''")
    jonas_option = page.locator("#id_assignee option", has_text="Jonas Weber")
    maya_option = page.locator("#id_assignee option", has_text="Maya Chen")
    assert jonas_option.evaluate("o => o.hidden") is False
    assert maya_option.evaluate("o => o.hidden") is True
    page.select_option("#id_assignee", label="Jonas Weber")
    page.click(".panel button:has-text('Update')")
    page.wait_for_selector(".flash:has-text('Ticket updated.')")
    assert page.inner_text(".ticket-head .badge >> nth=0") == "Solved"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee, ticket.team.name if ticket.team else None) == (
        Status.SOLVED,
        data["jonas"],
        "Technical support",
    )
    assert Message.objects.filter(ticket=ticket, public=False).count() == 2

    # Without htmx (a reload) the page shows the same state and the history tells the story.
    page.reload()
    page.click(".history-card summary")
    history = page.inner_text(".history")
    assert "Maya Chen changed status from Open to Solved" in history
    assert "Maya Chen changed assignee from Maya Chen to Jonas Weber" in history
    assert page.outside_requests == []


def test_phone_layout(page):
    data = conversation()
    ticket = data["ticket"]
    assert isinstance(ticket, Ticket)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "maya@deskpilot.test", f"/tickets/{ticket.pk}")
    page.wait_for_selector(".message")
    # One column: the side panel comes after the conversation, nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    conversation_box = page.locator(".conversation").bounding_box()
    panel_box = page.locator(".side-panel").bounding_box()
    assert conversation_box
    assert panel_box
    assert panel_box["y"] > conversation_box["y"]
    screenshot(page, "ticket-phone")


def test_hostile_customer_html_stays_inert(page):
    maya = factories.user(Role.AGENT, email="maya@deskpilot.test", name="Maya Chen")
    mallory = factories.customer(email="mallory@example.test", name="Mallory <img src=x onerror=alert('name')>")
    ticket = factories.ticket(
        requester=mallory,
        subject="<script>alert('subject')</script>",
        body_html='<p>Look <img src=x onerror="alert(\'html\')"></p><script>alert("script")</script>'
        '<a href="javascript:alert(1)">click</a><svg onload="alert(2)"></svg>',
        at=at(1),
    )
    actions.add_message(
        ticket, actor=mallory, via=Via.EMAIL, body_text="<script>alert('text')</script> plain text", at=at(2)
    )
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    sign_in(page, maya.email, f"/tickets/{ticket.pk}")
    page.wait_for_selector(".message")
    page.wait_for_load_state("load")
    page.click(".history-card summary")
    page.click("a:has-text('click')")  # a javascript: link would run here; it was stripped
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.locator(".message-body script").count() == 0
    assert page.locator(".message-body [onerror], .message-body [onload]").count() == 0
    assert page.locator("#main script").count() == 0
    assert "<script>alert('text')</script> plain text" in page.inner_text(".conversation")
    assert "<script>alert('subject')</script>" in page.inner_text("h1")
