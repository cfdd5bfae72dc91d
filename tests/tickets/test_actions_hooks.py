"""The hooks other apps build on: events_recorded inside the transaction, and caused_by."""

from __future__ import annotations

from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Ticket, TicketEvent, Via
from deskpilot.tickets.signals import events_recorded
from tests import factories

pytestmark = pytest.mark.django_db


def test_events_recorded_sees_the_change_inside_the_transaction() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    seen: list[tuple[int, list[str], int]] = []

    def receiver(sender: Any, *, ticket: Ticket, events: list[TicketEvent], **kwargs: Any) -> None:
        seen.append((ticket.pk, [e.field for e in events], ticket.version))

    events_recorded.connect(receiver)
    try:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    finally:
        events_recorded.disconnect(receiver)
    assert seen == [(ticket.pk, ["priority"], ticket.version)]


def test_a_receiver_that_changes_the_ticket_keeps_the_callers_copy_current() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()

    def receiver(sender: Any, *, ticket: Ticket, events: list[TicketEvent], **kwargs: Any) -> None:
        if any(e.field == "priority" for e in events):
            with actions.caused_by("trigger:1"):
                actions.update_ticket(ticket, actor=None, via=Via.RULE, changes={"add_tags": ["vip"]})

    events_recorded.connect(receiver)
    try:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    finally:
        events_recorded.disconnect(receiver)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert ticket.version == stored.version
    # The caller's next change, checked against the version it holds, is accepted.
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"subject": "x"}, expected_version=ticket.version)
    causes = dict(TicketEvent.objects.filter(ticket=ticket).values_list("field", "cause"))
    assert causes["tags"] == "trigger:1"
    assert causes["priority"] is None


def test_a_receiver_failure_rolls_the_change_back() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()

    def receiver(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    events_recorded.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.LOW})
    finally:
        events_recorded.disconnect(receiver)
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.NORMAL


@pytest.mark.parametrize("cause", ["", "x" * 61])
def test_caused_by_refuses_an_empty_or_long_cause(cause: str) -> None:
    with pytest.raises(ValueError, match="cause"), actions.caused_by(cause):
        pass
