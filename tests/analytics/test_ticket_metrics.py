"""The metrics record kept by the live path (deskpilot.analytics.ticket_metrics): hand-built ticket
histories made through the actions, with exact values."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.analytics import ticket_metrics
from deskpilot.analytics.models import TicketMetrics
from deskpilot.policies import sla
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    CustomHoliday,
    DefaultCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, Via
from deskpilot.tickets.signals import events_recorded
from tests import factories

pytestmark = pytest.mark.django_db

MON = datetime.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
HOUR = 3600
DISPATCH_UID = "deskpilot.analytics.ticket_metrics"


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


# --- business hours ------------------------------------------------------------------------------

FRI = at(0, day=-3)


def calendar(name: str, time_zone: str = "UTC", holidays: tuple[datetime.date, ...] = ()) -> BusinessCalendar:
    """Open Monday to Friday, 09:00-17:00 local time."""
    created = BusinessCalendar.objects.create(name=name, time_zone=time_zone)
    for day in range(5):
        BusinessInterval.objects.create(calendar=created, weekday=day, start=datetime.time(9), end=datetime.time(17))
    for holiday in holidays:
        CustomHoliday.objects.create(calendar=created, date=holiday)
    return created


def test_business_time_counts_on_the_default_calendar_from_friday_evening_over_a_holiday() -> None:
    DefaultCalendar.objects.create(calendar=calendar("Office", holidays=(datetime.date(2026, 3, 2),)))  # Monday
    agent = factories.user(Role.AGENT)
    with time_machine.travel(FRI + datetime.timedelta(hours=18), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(10, day=1), tick=False):  # Tuesday 10:00
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
    row = metrics(ticket)
    assert (row.first_reply_time, row.first_reply_time_business) == (88 * HOUR, HOUR)
    assert (row.full_resolution_time, row.full_resolution_time_business) == (88 * HOUR, HOUR)
    assert (row.requester_wait_time, row.requester_wait_time_business) == (88 * HOUR, HOUR)


def test_the_teams_calendar_wins_over_the_default() -> None:
    DefaultCalendar.objects.create(calendar=calendar("Office"))
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    TeamCalendar.objects.create(team=team, calendar=calendar("New York", "America/New_York"))
    with time_machine.travel(at(12), tick=False):  # 07:00 in New York (EST until 8 March)
        ticket = factories.ticket(actor=agent, team=team, requester=factories.customer())
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Hello?")
    with time_machine.travel(at(16), tick=False):  # 11:00 in New York
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Hi.")
    assert (metrics(ticket).first_reply_time, metrics(ticket).first_reply_time_business) == (4 * HOUR, 2 * HOUR)


# --- reassignment, merge, escalation ---------------------------------------------------------------


def test_a_reassigned_ticket_counts_its_stations_and_shows_where_it_is_now() -> None:
    first, second, third = (factories.user(Role.AGENT) for _ in range(3))
    support = factories.team(members=[first, second])
    billing = factories.team(members=[third])
    ticket = factories.ticket(actor=first, team=support, assignee=first, requester=factories.customer())
    actions.update_ticket(ticket, actor=first, via=Via.WEB, changes={"assignee": second})
    actions.update_ticket(ticket, actor=first, via=Via.WEB, changes={"assignee": first})
    # Moving to a team the assignee is not in unassigns the ticket.
    actions.update_ticket(ticket, actor=first, via=Via.WEB, changes={"team": billing})
    actions.update_ticket(ticket, actor=third, via=Via.WEB, changes={"assignee": third, "priority": "high"})
    row = metrics(ticket)
    assert (row.assignee_stations, row.group_stations) == (3, 2)
    assert (row.team_id, row.assignee_id, row.priority) == (billing.pk, third.pk, "high")


def test_a_merged_ticket_is_closed_and_names_the_one_it_went_into() -> None:
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        source = factories.ticket()
        target = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.add_message(target, actor=agent, via=Via.WEB, body_text="On it.")
    with time_machine.travel(at(11), tick=False):
        actions.merge_tickets(source, target, actor=agent, via=Via.WEB)
    merged = metrics(source)
    assert (merged.merged_into, merged.status) == (target.pk, Status.CLOSED)
    assert merged.solved_at == at(11)
    assert merged.full_resolution_time == 2 * HOUR
    assert merged.first_reply_time is None  # nobody answered the source itself
    kept = metrics(target)
    assert (kept.merged_into, kept.status, kept.replies) == (None, Status.OPEN, 1)
    assert kept.first_reply_time == HOUR


def test_escalations_count_the_steps_up() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    for level in ("tier2", "manager", None, "tier2"):
        actions.set_escalation(ticket, actor=agent, via=Via.WEB, level=level, reason="needs a specialist")
    assert metrics(ticket).escalations == 3


def test_the_recompute_keeps_the_csat_rating() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    TicketMetrics.objects.filter(pk=ticket.pk).update(csat_good=True)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert (metrics(ticket).csat_good, metrics(ticket).status) == (True, Status.SOLVED)


# --- SLA outcome ---------------------------------------------------------------------------------


def sla_policy(**targets: int) -> SlaPolicy:
    created = SlaPolicy.objects.create(name="Standard", warning_percent=None)
    for metric, minutes in targets.items():
        SlaTarget.objects.create(policy=created, metric=metric, priority="normal", minutes=minutes)
    SlaPolicy.objects.filter(pk=created.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    return created


def test_sla_outcome_follows_the_clock_and_the_sweeps_breaches() -> None:
    standard = sla_policy(first_reply=60, total_resolution=120)
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    assert metrics(ticket).sla_policy_id == standard.pk
    with time_machine.travel(at(9.5), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Looking.")
    row = metrics(ticket)
    assert row.sla_outcomes == {
        "first_reply": {"met": 1, "breached": 0, "running": 0},
        "total_resolution": {"met": 0, "breached": 0, "running": 1},
    }
    assert (row.sla_met, row.sla_breached) == (1, 0)
    # Nothing happens to the ticket until the sweep finds the breach and records it.
    with time_machine.travel(at(11, day=0) + datetime.timedelta(seconds=30), tick=False):
        assert sla.sweep() == 1
    row = metrics(ticket)
    assert row.sla_outcomes["total_resolution"] == {"met": 0, "breached": 1, "running": 0}
    assert (row.sla_met, row.sla_breached) == (1, 1)


# --- cost ----------------------------------------------------------------------------------------


@contextmanager
def without_metrics() -> Iterator[None]:
    """The metrics receiver disconnected, to count the queries it adds."""
    events_recorded.disconnect(dispatch_uid=DISPATCH_UID)
    try:
        yield
    finally:
        events_recorded.connect(ticket_metrics.on_events_recorded, dispatch_uid=DISPATCH_UID)


def _queries(change: Callable[[], object]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        change()
    return [q["sql"] for q in captured.captured_queries]


def test_an_update_adds_two_queries_the_stamp_read_once_per_change() -> None:
    agent = factories.user(Role.AGENT)

    def added(ticket: Ticket, field: str, first: object, then: object) -> list[str]:
        with without_metrics():
            before = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={field: first}))
        after = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={field: then}))
        return after[len(before) :] if len(after) > len(before) else []

    # The events and the upsert; and the daily rollups' read of the stored record
    # (analytics.rollups), which PostgreSQL does inside the upsert statement. No rollup write:
    # the first change ran without the receiver, so the stored record still has the value the
    # second change sets back, and nothing moved. The SLA configuration's stamp (which the
    # calendars and the policy are kept on) was read by the SLA clock for this change already.
    read = 0 if connection.vendor == "postgresql" else 1
    plain = factories.ticket()
    assert len(added(plain, "priority", "high", "normal")) == 2 + read, added(plain, "priority", "high", "normal")
    sla_policy(first_reply=60)
    governed = factories.ticket()
    assert len(added(governed, "priority", "high", "normal")) == 2 + read
    # A change the SLA clock does not read (the assignee): the metrics read the stamp themselves.
    other = factories.user(Role.AGENT)
    reassigned = added(governed, "assignee", other, agent)
    assert sum("policies_configchange" in sql for sql in reassigned) == 1, [sql[:70] for sql in reassigned]
    # The calendar assignments are kept per process: not read again.
    assert not any("policies_defaultcalendar" in sql for sql in reassigned), [sql[:70] for sql in reassigned]


def test_a_new_ticket_under_a_policy_is_computed_once() -> None:
    """The SLA clock records the policy from inside the creation's dispatch: the receiver runs for
    that first and must not run again for the creation itself."""
    sla_policy(first_reply=60)
    factories.ticket()  # the policy cache warmed up
    requester = factories.customer()
    with without_metrics():
        without = _queries(lambda: factories.ticket(requester=requester))
    with_metrics = _queries(lambda: factories.ticket(requester=requester))
    # Two for the record (the events, the upsert), two for the daily rollups (the record read back,
    # the rollup upsert); PostgreSQL reads the record back inside the record's upsert.
    assert len(with_metrics) - len(without) == (3 if connection.vendor == "postgresql" else 4)
    assert TicketMetrics.objects.count() == 2


def test_a_change_the_metrics_do_not_read_adds_no_query() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with without_metrics():
        without = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": ["a"]}))
    with_metrics = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": ["b"]}))
    assert len(with_metrics) == len(without)


def test_a_move_to_a_team_with_another_calendar_splits_the_waits_and_measures_spans_at_their_end() -> None:
    """DOMAIN.md: a span on the calendar in force when it ends, each status period on the one in
    force during it. Tokyo's 09:00-17:00 is 00:00-08:00 UTC."""
    agent = factories.user(Role.AGENT)
    tokyo_desk, london_desk = factories.team(members=[agent]), factories.team(members=[agent])
    TeamCalendar.objects.create(team=tokyo_desk, calendar=calendar("Tokyo", "Asia/Tokyo"))
    TeamCalendar.objects.create(team=london_desk, calendar=calendar("London", "UTC"))
    with time_machine.travel(at(7), tick=False):
        ticket = factories.ticket(actor=agent, team=tokyo_desk, requester=factories.customer(), status=Status.OPEN)
    with time_machine.travel(at(8.5), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": london_desk})
    with time_machine.travel(at(10), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    row = metrics(ticket)
    assert (row.full_resolution_time, row.full_resolution_time_business) == (3 * HOUR, HOUR)
    assert (row.requester_wait_time, row.requester_wait_time_business) == (3 * HOUR, 2 * HOUR)
    assert row.group_stations == 2
