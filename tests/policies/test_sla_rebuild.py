"""The bulk rebuild (deskpilot sla-recompute) agrees with the live path, ticket by ticket."""

from __future__ import annotations

import datetime
from datetime import UTC
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from deskpilot.accounts.models import Role
from deskpilot.core import parallel
from deskpilot.policies import sla
from deskpilot.policies.models import BusinessCalendar, BusinessInterval, DefaultCalendar, SlaPolicy, SlaTarget
from deskpilot.policies.sla_rebuild import recompute_all
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)


def _state() -> list[tuple[int, int | None, datetime.datetime | None, datetime.datetime | None]]:
    return list(Ticket.objects.order_by("pk").values_list("pk", "sla_policy_id", "sla_next_breach_at", "sla_wake_at"))


def _findings() -> list[tuple[int, str, str, datetime.datetime]]:
    return sorted(
        (e.ticket_id, e.new["kind"], e.new["metric"], e.created_at)  # type: ignore[index]
        for e in TicketEvent.objects.filter(field="sla")
    )


def _scenario() -> tuple[list[Ticket], datetime.datetime]:
    """Twelve tickets under two policies (business hours, a tag condition, warnings), replied to,
    paused, solved; swept at the end so the live path has recorded its findings."""
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="America/New_York", holiday_country="US")
    for day in range(5):
        BusinessInterval.objects.create(calendar=calendar, weekday=day, start=datetime.time(8), end=datetime.time(18))
    DefaultCalendar.objects.create(calendar=calendar)
    vip = SlaPolicy.objects.create(name="VIP", position=0, tags=["vip"], warning_percent=80)
    standard = SlaPolicy.objects.create(name="Standard", position=1)
    for policy, minutes in ((vip, 30), (standard, 120)):
        for metric in ("first_reply", "next_reply", "requester_wait", "total_resolution"):
            SlaTarget.objects.create(policy=policy, metric=metric, priority="normal", minutes=minutes * 4 if
                                     metric == "total_resolution" else minutes, business_hours=metric != "first_reply")  # fmt: skip
    SlaPolicy.objects.update(updated_at=T0 - datetime.timedelta(days=10))
    sla.clear_cache()
    agent = factories.user(Role.AGENT)
    tickets = []
    for n in range(12):
        with time_machine.travel(T0 + datetime.timedelta(hours=5 * n), tick=False):
            tickets.append(
                factories.ticket(tags=["vip"] if n % 3 == 0 else [], actor=agent if n % 3 == 0 or n % 4 == 0 else None)
            )
    for n, ticket in enumerate(tickets):
        with time_machine.travel(T0 + datetime.timedelta(hours=5 * n + 1 + n % 3), tick=False):
            if n % 2:
                actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Looking", status=Status.PENDING)
        with time_machine.travel(T0 + datetime.timedelta(hours=5 * n + 3), tick=False):
            actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Any news?")
        if n % 5 == 0:
            with time_machine.travel(T0 + datetime.timedelta(hours=5 * n + 4), tick=False):
                actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    end = T0 + datetime.timedelta(days=5)
    with time_machine.travel(end, tick=False):
        sla.sweep()
    return tickets, end


def _forget() -> None:
    TicketEvent.objects.filter(field="sla").delete()
    Ticket.objects.update(sla_policy=None, sla_next_breach_at=None, sla_wake_at=None)


def test_the_rebuild_agrees_with_the_live_path() -> None:
    tickets, end = _scenario()
    live_state, live_findings = _state(), _findings()
    assert live_findings  # the scenario breaches something

    _forget()
    with time_machine.travel(end, tick=False):
        totals = recompute_all(chunk=5)
    assert totals.tickets == len(tickets)
    assert _state() == live_state
    assert _findings() == live_findings

    # Again: nothing new is recorded, nothing changes.
    with time_machine.travel(end, tick=False):
        again = recompute_all(chunk=5)
    assert again.findings == 0
    assert _state() == live_state
    assert _findings() == live_findings


@pytest.mark.django_db(transaction=True)
def test_worker_processes_share_the_rebuild_and_agree_with_the_live_path() -> None:
    if not parallel.can_fork():
        pytest.skip("worker processes need a database they can open (the SQLite test database is in memory)")
    tickets, end = _scenario()
    live_state, live_findings = _state(), _findings()
    _forget()
    seen: list[int] = []
    totals = recompute_all(chunk=2, workers=3, now=end, progress=seen.append)
    assert totals.tickets == len(tickets)
    assert sum(seen) == len(tickets)
    assert len(seen) >= 6  # chunk by chunk, from every worker
    assert totals.findings == len(live_findings)
    assert _state() == live_state
    assert _findings() == live_findings


def test_the_command_reports_and_resumes() -> None:
    SlaTarget.objects.create(policy=SlaPolicy.objects.create(name="Standard"), metric="first_reply",
                             priority="normal", minutes=60, business_hours=False)  # fmt: skip
    sla.clear_cache()
    first, second = factories.ticket(), factories.ticket()
    Ticket.objects.update(sla_policy=None, sla_next_breach_at=None)
    out = StringIO()
    call_command("sla_recompute", "--from-id", str(second.pk), stdout=out)
    assert "Recomputed 1 tickets" in out.getvalue()
    assert Ticket.objects.get(pk=first.pk).sla_policy_id is None
    assert Ticket.objects.get(pk=second.pk).sla_policy_id is not None


@pytest.mark.parametrize(("option", "value"), [("--from-id", "zero"), ("--workers", "0"), ("--workers", "two")])
def test_a_bad_argument_is_a_usage_error_naming_it(option: str, value: str) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=option):
        call_command("sla_recompute", option, value)
