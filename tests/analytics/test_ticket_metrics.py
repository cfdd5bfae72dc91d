"""The metrics record kept by the live path (deskpilot.analytics.ticket_metrics): hand-built ticket
histories made through the actions, with exact values."""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest
import time_machine

from deskpilot.accounts.models import Role
from deskpilot.analytics.models import TicketMetrics
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, Via
from tests import factories

pytestmark = pytest.mark.django_db

MON = datetime.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
HOUR = 3600


def at(hour: float, day: int = 0) -> datetime.datetime:
    return MON + datetime.timedelta(days=day, seconds=round(hour * 3600))


def metrics(ticket: Ticket) -> TicketMetrics:
    return TicketMetrics.objects.get(pk=ticket.pk)


def test_the_worked_example_of_domain_md() -> None:
    """Created 09:00; reply and pending 10:00; the customer replies 12:00; solved 14:00."""
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Which version?", status=Status.PENDING)
    with time_machine.travel(at(12), tick=False):
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="3.1")
    with time_machine.travel(at(14), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    row = metrics(ticket)
    assert row.requester_wait_time == 3 * HOUR
    assert row.agent_wait_time == 2 * HOUR
    assert row.full_resolution_time == row.first_resolution_time == 5 * HOUR
    assert row.first_reply_time == 1 * HOUR
    assert row.on_hold_time == 0
    # No calendar anywhere: business time is around the clock.
    assert row.requester_wait_time_business == 3 * HOUR
    assert (row.replies, row.customer_messages, row.reopens) == (1, 2, 0)
    assert row.one_touch is True
    assert row.first_contact_resolution is False
    assert row.solved_at == row.first_solved_at == at(14)
    assert (row.status, row.created_at) == (Status.SOLVED, at(9))
