"""Hand-built histories the analytics tests share, with the times their expected values are
computed from."""

from __future__ import annotations

import datetime
from datetime import UTC

import time_machine

from deskpilot.accounts.models import Role, User
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, Via
from tests import factories

MON = datetime.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
HOUR = 3600


def at(hour: float, day: int = 0) -> datetime.datetime:
    return MON + datetime.timedelta(days=day, seconds=round(hour * 3600))


def two_days() -> tuple[Ticket, Ticket, User]:
    """t1: created Mon 09:00, reply 10:00, solved 14:00. t2: created Mon 23:00, reply Tue 00:30,
    solved Tue 02:00."""
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        t1 = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.add_message(t1, actor=agent, via=Via.WEB, body_text="Try this.")
    with time_machine.travel(at(14), tick=False):
        actions.update_ticket(t1, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    with time_machine.travel(at(23), tick=False):
        t2 = factories.ticket()
    with time_machine.travel(at(0.5, day=1), tick=False):
        actions.add_message(t2, actor=agent, via=Via.WEB, body_text="And this.")
    with time_machine.travel(at(2, day=1), tick=False):
        actions.update_ticket(t2, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    return t1, t2, agent
