"""The ticket lifecycle rules of DOMAIN.md, through the actions."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput, NotPermitted, StaleVersion
from deskpilot.tickets import actions, permissions
from deskpilot.tickets.models import LinkKind, Status, Ticket, TicketEvent, TicketLink, Via
from tests import factories

pytestmark = pytest.mark.django_db


def test_customer_reply_reopens_pending_on_hold_and_solved():
    agent = factories.user(Role.AGENT)
    for status in (Status.PENDING, Status.ON_HOLD, Status.SOLVED):
        ticket = factories.ticket()
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": status})
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Any news?")
        ticket.refresh_from_db()
        assert ticket.status == Status.OPEN, status
        last = ticket.events.filter(field="status").last()
        assert last is not None
        assert (last.old, last.new, last.actor_customer_id) == (status, Status.OPEN, ticket.requester_id)


def test_agent_public_reply_opens_new_ticket_but_internal_note_does_not():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="note", public=False)
    assert ticket.status == Status.NEW
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Hello!")
    assert ticket.status == Status.OPEN


def test_reply_to_closed_ticket_starts_linked_follow_up():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    message = actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="It broke again")
    follow_up = message.ticket
    assert follow_up.pk != ticket.pk
    assert follow_up.status == Status.NEW
    assert TicketLink.objects.filter(source=follow_up, target=ticket, kind=LinkKind.FOLLOW_UP).exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.messages.count() == 1


def test_a_ccd_customer_replying_to_a_closed_ticket_can_see_the_follow_up():
    agent = factories.user(Role.AGENT)
    cc = factories.customer_user()
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"ccs": [cc.customer]})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    follow_up = actions.add_message(ticket, actor=cc, via=Via.WEB, body_text="Same problem here").ticket
    assert follow_up.pk != ticket.pk
    assert list(follow_up.ccs.all()) == [cc.customer]
    assert permissions.can_view(cc, follow_up)
    created = follow_up.events.get(field="created")
    assert created.new is not None
    assert created.new["ccs"] == [cc.customer.pk]


def test_solved_tickets_close_after_configured_days(settings):
    settings.AUTO_CLOSE_DAYS = 4
    agent = factories.user(Role.AGENT)
    old, recent = factories.ticket(), factories.ticket()
    now = timezone.now()
    actions.update_ticket(
        old, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED}, at=now - datetime.timedelta(days=5)
    )
    actions.update_ticket(
        recent, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED}, at=now - datetime.timedelta(days=3)
    )
    assert actions.close_solved_tickets(now=now) == 1
    assert actions.close_solved_tickets(now=now) == 0  # idempotent
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == (Status.CLOSED, Status.SOLVED)
    event = TicketEvent.objects.filter(ticket=old, field="status").last()
    assert event is not None
    assert (event.new, event.via, event.actor_user_id) == (Status.CLOSED, Via.SYSTEM, None)


def test_invalid_update_writes_nothing():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    before = (ticket.version, TicketEvent.objects.count())
    with pytest.raises(InvalidInput) as error:
        actions.update_ticket(ticket, actor=agent, via=Via.API, changes={"priority": "high", "status": "bogus"})
    assert "status" in error.value.errors
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert (ticket.version, TicketEvent.objects.count()) == before


def test_stale_version_is_refused():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    version = ticket.version
    actions.update_ticket(ticket, actor=agent, via=Via.API, changes={"priority": "high"}, expected_version=version)
    with pytest.raises(StaleVersion):
        actions.update_ticket(ticket, actor=agent, via=Via.API, changes={"priority": "low"}, expected_version=version)
    assert Ticket.objects.get(pk=ticket.pk).priority == "high"


def test_collaborator_may_only_write_internal_notes():
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    with pytest.raises(NotPermitted):
        actions.add_message(ticket, actor=collaborator, via=Via.WEB, body_text="hi", public=True)
    with pytest.raises(NotPermitted):
        actions.update_ticket(ticket, actor=collaborator, via=Via.WEB, changes={"priority": "high"})
    note = actions.add_message(ticket, actor=collaborator, via=Via.WEB, body_text="FYI", public=False)
    assert note.public is False


def test_html_is_sanitised_when_stored():
    ticket = factories.ticket(
        body_text="",
        body_html='<p onclick="x()">Hi <a href="javascript:alert(1)">x</a><script>alert(1)</script></p>',
    )
    message = ticket.messages.get()
    assert "script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "javascript:" not in message.body_html
    assert message.body_text.startswith("Hi")
