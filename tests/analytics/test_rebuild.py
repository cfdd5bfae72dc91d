"""The rebuild (deskpilot metrics-rebuild) agrees with the live path, and both agree with a
straightforward recomputation written here from the raw events."""

from __future__ import annotations

import datetime
import io
from datetime import UTC
from itertools import pairwise
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict

from deskpilot.accounts.models import Role
from deskpilot.analytics import ticket_metrics
from deskpilot.analytics.models import TicketMetrics
from deskpilot.analytics.rebuild import rebuild_all
from deskpilot.core.parallel import can_fork
from deskpilot.policies import sla
from deskpilot.policies.business_time import Schedule, business_seconds
from deskpilot.policies.calendars import schedule_for
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    DefaultCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.policies.sla_rebuild import recompute_all
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, 09:00


def _rows() -> dict[int, dict[str, Any]]:
    return {row.pk: model_to_dict(row) for row in TicketMetrics.objects.order_by("pk")}


def _calendar(name: str, time_zone: str) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.create(name=name, time_zone=time_zone, holiday_country="US")
    for day in range(5):
        BusinessInterval.objects.create(calendar=calendar, weekday=day, start=datetime.time(8), end=datetime.time(18))
    return calendar


def _policy() -> None:
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=None)
    for metric, minutes, business in (
        ("first_reply", 60, True),
        ("next_reply", 120, False),
        ("requester_wait", 600, True),
        ("total_resolution", 24 * 60, False),
    ):
        SlaTarget.objects.create(
            policy=policy, metric=metric, priority="normal", minutes=minutes, business_hours=business
        )
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=T0 - datetime.timedelta(days=30))
    sla.clear_cache()


def _scenario() -> list[Ticket]:
    """Tickets made through the actions: reopened, reassigned across teams with their own
    calendars, merged, escalated, pinned to a calendar, on hold, left open."""
    DefaultCalendar.objects.create(calendar=_calendar("Office", "America/New_York"))
    _policy()
    first, second = factories.user(Role.AGENT), factories.user(Role.AGENT)
    support = factories.team(members=[first])
    europe = factories.team(members=[second])
    TeamCalendar.objects.create(team=europe, calendar=_calendar("Europe", "Europe/Berlin"))
    hour = datetime.timedelta(hours=1)
    tickets = []
    with time_machine.travel(T0, tick=False):
        for _ in range(6):
            tickets.append(factories.ticket())
        tickets.append(factories.ticket(actor=first, team=support, requester=factories.customer()))
    reopened, moved, merged, into, escalated, pinned, outbound = tickets
    with time_machine.travel(T0 + hour, tick=False):
        actions.add_message(reopened, actor=first, via=Via.WEB, body_text="Fixed.", status=Status.SOLVED)
        actions.update_ticket(moved, actor=first, via=Via.WEB, changes={"team": support, "assignee": first})
        actions.set_escalation(escalated, actor=first, via=Via.WEB, level="tier2", reason="specialist")
        sla.pin_policy(pinned, policy_id=None, calendar_id=BusinessCalendar.objects.get(name="Europe").pk, cause="t")
    with time_machine.travel(T0 + 3 * hour, tick=False):
        actions.add_message(reopened, actor=reopened.requester, via=Via.EMAIL, body_text="Not fixed.")
        actions.update_ticket(moved, actor=first, via=Via.WEB, changes={"team": europe, "assignee": second})
        actions.merge_tickets(merged, into, actor=first, via=Via.WEB)
        actions.update_ticket(pinned, actor=first, via=Via.WEB, changes={"status": Status.ON_HOLD})
        actions.add_message(outbound, actor=outbound.requester, via=Via.EMAIL, body_text="Thanks, but...")
    with time_machine.travel(T0 + 30 * hour, tick=False):
        actions.add_message(moved, actor=second, via=Via.WEB, body_text="Hallo.", status=Status.PENDING)
        actions.update_ticket(pinned, actor=first, via=Via.WEB, changes={"status": Status.SOLVED})
        actions.update_ticket(reopened, actor=first, via=Via.WEB, changes={"status": Status.SOLVED})
    with time_machine.travel(T0 + 40 * hour, tick=False):
        sla.sweep()
    return tickets


def test_the_rebuild_agrees_with_the_live_path() -> None:
    tickets = _scenario()
    live = _rows()
    assert sorted(live) == sorted(t.pk for t in tickets)
    assert any(row["sla_breached"] for row in live.values())  # the scenario breaches something
    assert any(row["reopens"] for row in live.values())
    assert any(row["merged_into"] for row in live.values())
    TicketMetrics.objects.all().delete()
    totals = rebuild_all(chunk=3)
    assert totals.tickets == len(tickets)
    assert _rows() == live
    rebuild_all(chunk=3)  # again: rows are replaced, not added
    assert _rows() == live


def test_rebuilding_replaces_stale_rows_and_keeps_csat() -> None:
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"status": Status.SOLVED})
    live = _rows()
    TicketMetrics.objects.update(replies=99, status="open", first_resolution_time=None, csat_good=False)
    rebuild_all()
    rebuilt = _rows()
    assert rebuilt[ticket.pk]["csat_good"] is False
    rebuilt[ticket.pk]["csat_good"] = None
    assert rebuilt == live


# --- the demo data, three ways ---------------------------------------------------------------------


def _independent(ticket: Ticket, schedule: Schedule) -> dict[str, Any]:
    """The metrics of one ticket straight from its raw events, written plainly for this test:
    a replay of the status timeline and of the public messages by author role."""
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id"))
    created = next(e for e in events if e.field == "created")
    start = created.created_at.replace(microsecond=0)
    initial = created.new
    assert isinstance(initial, dict)

    timeline = [(start, initial["status"])]  # (since, status)
    for e in events:
        if e.field == "status" and e.new != timeline[-1][1]:
            timeline.append((e.created_at.replace(microsecond=0), e.new))
    solves = [
        since
        for (since, status), (_, before) in zip(timeline, [(None, None), *timeline], strict=False)
        if status in ("solved", "closed") and before not in ("solved", "closed")
    ]
    reopens = sum(1 for (_, a), (_, b) in pairwise(timeline) if a == "solved" and b != "closed")
    solved_now = timeline[-1][1] in ("solved", "closed")

    messages = [e for e in events if e.field == "message" and e.new["public"]]  # type: ignore[index]
    opening = messages[0] if messages and messages[0].created_at == created.created_at else None
    agent_roles = {"agent", "manager", "admin"}
    agent_replies = [m for m in messages if m.new["author_role"] in agent_roles and m is not opening]  # type: ignore[index]
    customer = [m for m in messages if m.new["author_role"] == "customer"]  # type: ignore[index]
    by_customer = created.actor_customer_id is not None
    reply_from = start if by_customer else (customer[0].created_at.replace(microsecond=0) if customer else None)
    replies_after = [m for m in agent_replies if reply_from is not None and m.created_at >= reply_from]

    def both(a: datetime.datetime, b: datetime.datetime) -> tuple[int, int]:
        a, b = a.replace(microsecond=0), b.replace(microsecond=0)
        return int((b - a).total_seconds()), business_seconds(schedule, a, b)

    def in_statuses(names: set[str]) -> tuple[int, int]:
        total = [0, 0]
        end = solves[-1] if solves else start
        for (since, status), (until, _) in zip(timeline, [*timeline[1:], (end, None)], strict=False):
            if status in names and since < end:
                cal, bus = both(since, min(until, end))
                total[0] += cal
                total[1] += bus
        return total[0], total[1]

    out: dict[str, Any] = {"first_reply_time": None, "first_resolution_time": None, "full_resolution_time": None}
    out.update({"requester_wait_time": None, "agent_wait_time": None, "on_hold_time": None})
    if reply_from is not None and replies_after:
        out["first_reply_time"] = both(reply_from, replies_after[0].created_at)
    if solves:
        out["first_resolution_time"] = both(start, solves[0])
    if solved_now:
        out["full_resolution_time"] = both(start, solves[-1])
        out["requester_wait_time"] = in_statuses({"new", "open", "on_hold"})
        out["agent_wait_time"] = in_statuses({"pending"})
        out["on_hold_time"] = in_statuses({"on_hold"})
    assignees = {e.new for e in events if e.field == "assignee" and e.new is not None} | (
        {initial["assignee"]} if initial.get("assignee") else set()
    )
    teams = {e.new for e in events if e.field == "team" and e.new is not None} | (
        {initial["team"]} if initial.get("team") else set()
    )
    out.update(
        replies=len(agent_replies),
        customer_messages=len(customer),
        reopens=reopens,
        assignee_stations=len(assignees),
        group_stations=len(teams),
        one_touch=(len(agent_replies) < 2) if solved_now else None,
        first_contact_resolution=(len(customer) <= 1) if solved_now else None,
        solved_at=solves[-1] if solved_now else None,
    )
    return out


def _as_independent(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ticket_metrics.TIME_METRICS:
        out[name] = None if row[name] is None else (row[name], row[f"{name}_business"])
    for name in ("replies", "customer_messages", "reopens", "assignee_stations", "group_stations"):
        out[name] = row[name]
    for name in ("one_touch", "first_contact_resolution", "solved_at"):
        out[name] = row[name]
    return out


def test_live_path_rebuild_and_an_independent_recomputation_agree_on_demo_data() -> None:
    office = _calendar("Office", "America/New_York")
    DefaultCalendar.objects.create(calendar=office)
    _policy()
    call_command("demo_data", "--tickets", "200", "--days", "20", "--seed", "11", stdout=io.StringIO())
    recompute_all()  # the SLA clocks again (demo data computed them at its own "now")
    assert Ticket.objects.exclude(sla_policy=None).exists()
    assert TicketMetrics.objects.count() == 200  # demo data builds them; forgotten, then rebuilt
    TicketMetrics.objects.all().delete()

    rebuild_all(chunk=64)
    rebuilt = _rows()
    assert len(rebuilt) == 200

    TicketMetrics.objects.all().delete()
    for ticket in Ticket.objects.order_by("pk"):
        ticket_metrics.refresh(ticket, policy_id=ticket.sla_policy_id)
    live = _rows()
    assert live == rebuilt

    schedule = schedule_for(office)
    variety = {"reopens": 0, "solved": 0, "unsolved": 0, "reassigned": 0, "sla": 0, "business_differs": 0}
    for ticket in Ticket.objects.order_by("pk"):
        row = live[ticket.pk]
        assert _as_independent(row) == _independent(ticket, schedule), ticket.pk
        variety["reopens"] += row["reopens"] > 0
        variety["solved"] += row["solved_at"] is not None
        variety["unsolved"] += row["solved_at"] is None
        variety["reassigned"] += row["assignee_stations"] > 1
        variety["sla"] += bool(row["sla_outcomes"])
        variety["business_differs"] += row["full_resolution_time"] != row["full_resolution_time_business"]
    # The demo data exercises what the definitions distinguish.
    assert all(variety.values()), variety


# --- the command ---------------------------------------------------------------------------------


def test_the_command_reports_and_resumes() -> None:
    first, second = factories.ticket(), factories.ticket()
    TicketMetrics.objects.all().delete()
    out = io.StringIO()
    call_command("metrics_rebuild", "--from-id", str(second.pk), "--workers", "1", stdout=out)
    assert "Rebuilt the metrics of 1 tickets." in out.getvalue()
    assert list(TicketMetrics.objects.values_list("pk", flat=True)) == [second.pk]
    call_command("metrics_rebuild", stdout=out)
    assert sorted(TicketMetrics.objects.values_list("pk", flat=True)) == [first.pk, second.pk]


@pytest.mark.parametrize(
    ("option", "value"), [("--from-id", "zero"), ("--from-id", "0"), ("--workers", "0"), ("--workers", "two")]
)
def test_a_bad_argument_is_a_usage_error_naming_it(option: str, value: str) -> None:
    with pytest.raises(CommandError, match=option) as error:
        call_command("metrics_rebuild", option, value)
    assert error.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_worker_processes_share_the_rebuild_and_agree_with_the_live_path() -> None:
    if not can_fork():
        pytest.skip("worker processes need a database they can open (the SQLite test database is in memory)")
    tickets = _scenario()
    live = _rows()
    TicketMetrics.objects.all().delete()
    seen: list[int] = []
    totals = rebuild_all(chunk=2, workers=3, progress=seen.append)
    assert totals.tickets == len(tickets)
    assert sum(seen) == len(tickets)
    assert len(seen) >= 4  # chunk by chunk, from every worker
    assert _rows() == live


@pytest.mark.parametrize("announce", [True, False])
def test_the_bulk_sla_recompute_brings_the_records_of_what_it_wrote_up_to_date(announce: bool) -> None:
    with time_machine.travel(T0, tick=False):
        ticket = factories.ticket()  # no policy yet: nothing to breach
    assert TicketMetrics.objects.get(ticket=ticket).sla_breached == 0
    _policy()  # made without the managers' actions: only the bulk recompute will apply it
    with time_machine.travel(T0 + datetime.timedelta(days=3), tick=False):
        totals = recompute_all(announce=announce)
    assert totals.findings >= 1
    assert Ticket.objects.get(pk=ticket.pk).sla_policy_id is not None
    # Announced, the metrics record counts the recorded breaches; not announced (the demo
    # generator rebuilds every record itself afterwards), it is left as it was.
    assert (TicketMetrics.objects.get(ticket=ticket).sla_breached > 0) is announce
