"""Hand-built histories the analytics tests share, with the times their expected values are
computed from."""

from __future__ import annotations

import datetime
import random
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


def mixed_history(seed: int, tickets: int = 16) -> list[Ticket]:
    """A few days of varied tickets for reports: two teams and agents, two priorities, an SLA
    policy (first reply within 2 h, resolution within 8 h), replies, solves, a reopen, tags and
    ratings (set on the record, as the feedback app will). Times from ``MON``, days 0-3."""
    from deskpilot.analytics.models import TicketMetrics
    from deskpilot.analytics.rollups import rebuild
    from deskpilot.policies import sla
    from deskpilot.policies.models import SlaPolicy, SlaTarget
    from deskpilot.tickets.models import Priority

    policy = SlaPolicy.objects.create(name=f"Reports {seed}", warning_percent=None)
    for priority in (Priority.NORMAL, Priority.HIGH):
        SlaTarget.objects.create(policy=policy, metric="first_reply", priority=priority, minutes=120)
        SlaTarget.objects.create(policy=policy, metric="total_resolution", priority=priority, minutes=480)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    rand = random.Random(seed)
    agents = [factories.user(Role.AGENT) for _ in range(2)]
    teams = [factories.team(members=agents), factories.team(members=agents)]
    made = []
    for n in range(tickets):
        start = rand.uniform(0, 20) + 24 * rand.randrange(0, 4)
        with time_machine.travel(at(start), tick=False):
            ticket = factories.ticket(priority=rand.choice([Priority.NORMAL, Priority.HIGH]))
            changes: dict[str, object] = {"team": rand.choice(teams), "assignee": rand.choice(agents)}
            if n % 4 == 0:
                changes["tags"] = ["billing"]
            actions.update_ticket(ticket, actor=agents[0], via=Via.WEB, changes=changes)
        if n % 3:
            with time_machine.travel(at(start + rand.uniform(0.2, 5)), tick=False):
                actions.add_message(ticket, actor=agents[0], via=Via.WEB, body_text="Reply", status=Status.SOLVED)
            if n % 5 == 0:
                with time_machine.travel(at(start + 6), tick=False):
                    actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Not fixed")
                with time_machine.travel(at(start + 12), tick=False):
                    actions.add_message(ticket, actor=agents[1], via=Via.WEB, body_text="Now", status=Status.SOLVED)
        made.append(ticket)
    # Ratings on a few solved tickets, then the rollups again (the feedback app will move them live).
    solved = [t.pk for t in made if TicketMetrics.objects.filter(pk=t.pk, solved_at__isnull=False).exists()]
    TicketMetrics.objects.filter(pk__in=solved[::2]).update(csat_good=True)
    TicketMetrics.objects.filter(pk__in=solved[1::3]).update(csat_good=False)
    rebuild()
    return made
