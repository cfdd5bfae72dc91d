"""SLA clocks kept on every ticket (deskpilot.policies.sla): policy choice, the ticket's next
breach, warnings and breaches recorded at the moment they happen, the sweep, pins."""

from __future__ import annotations

import datetime
from datetime import UTC

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.policies import sla
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    DefaultCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db

MON = datetime.datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(hour: float, day: int = 0) -> datetime.datetime:
    return MON + datetime.timedelta(days=day, seconds=round(hour * 3600))


def policy(name: str = "Standard", *, targets: dict[str, int] | None = None, business: bool = False,
           priority: str = "normal", warning: int | None = 75, **conditions: object) -> SlaPolicy:  # fmt: skip
    created = SlaPolicy.objects.create(name=name, warning_percent=warning, **conditions)
    for metric, minutes in (targets or {"first_reply": 60}).items():
        SlaTarget.objects.create(policy=created, metric=metric, priority=priority, minutes=minutes,
                                 business_hours=business)  # fmt: skip
    SlaPolicy.objects.filter(pk=created.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    return SlaPolicy.objects.get(pk=created.pk)


def sla_events(ticket: Ticket) -> list[tuple[str, str, datetime.datetime]]:
    return [
        (e.new["kind"], e.new["metric"], e.created_at)  # type: ignore[index]
        for e in TicketEvent.objects.filter(ticket=ticket, field="sla").order_by("created_at", "id")
    ]


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_a_new_ticket_gets_its_policy_and_next_breach() -> None:
    standard = policy(targets={"first_reply": 60, "total_resolution": 480})
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    stored = fresh(ticket)
    assert stored.sla_policy_id == standard.pk
    assert stored.sla_next_breach_at == at(10)
    assert stored.sla_wake_at == at(9.75)  # the 75 % warning of first reply comes first
    assert TicketEvent.objects.filter(ticket=ticket, field="sla_policy").get().new == {
        "id": standard.pk,
        "name": "Standard",
    }


def test_the_worked_example_of_domain_md() -> None:
    """Created 09:00; reply and pending 10:00; the customer replies 12:00; solved 14:00: requester
    wait 3 h, total resolution 5 h, first reply 1 h."""
    policy(targets={"first_reply": 600, "requester_wait": 600, "total_resolution": 600, "agent_work": 600})
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Which version?", status=Status.PENDING)
    with time_machine.travel(at(12), tick=False):
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="3.1")
    with time_machine.travel(at(14), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    with time_machine.travel(at(20), tick=False):
        clocks = sla.clocks_now(ticket)
    by_metric = {i.metric: i for i in clocks.instances}
    assert by_metric["first_reply"].elapsed == 3600
    assert by_metric["requester_wait"].elapsed == 3 * 3600
    assert by_metric["requester_wait"].paused == 2 * 3600
    assert by_metric["agent_work"].elapsed == 3 * 3600
    assert by_metric["total_resolution"].elapsed == 5 * 3600
    assert all(i.state == "fulfilled" for i in clocks.instances)
    assert fresh(ticket).sla_next_breach_at is None
    assert fresh(ticket).sla_wake_at is None


def test_the_sweep_records_warning_and_breach_at_their_moments() -> None:
    policy(targets={"first_reply": 60})
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(9.75) + datetime.timedelta(seconds=20), tick=False):
        assert sla.sweep() == 1
    assert sla_events(ticket) == [("warning", "first_reply", at(9.75))]
    assert fresh(ticket).sla_wake_at == at(10)
    with time_machine.travel(at(10) + datetime.timedelta(seconds=40), tick=False):
        assert sla.sweep() == 1
        assert sla.sweep() == 0  # idempotent: nothing is due any more
    assert sla_events(ticket)[-1] == ("breach", "first_reply", at(10))
    stored = fresh(ticket)
    assert stored.sla_next_breach_at == at(10)  # breached: what lists show in red
    assert stored.sla_wake_at is None
    event = TicketEvent.objects.get(ticket=ticket, field="sla", new__kind="breach")
    assert event.cause == "sla"
    assert event.via == Via.SYSTEM


def test_a_late_sweep_still_records_the_true_moment() -> None:
    """A worker that was down an hour: the breach is recorded when it happened, not when seen."""
    policy(targets={"first_reply": 60}, warning=None)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(11), tick=False):
        sla.sweep()
    assert sla_events(ticket) == [("breach", "first_reply", at(10))]


def test_tickets_that_fail_never_block_the_sweep_for_the_ones_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    policy(targets={"first_reply": 60}, warning=None)
    tickets = []
    for minute in range(5):
        with time_machine.travel(at(9) + datetime.timedelta(minutes=minute), tick=False):
            tickets.append(factories.ticket())
    broken = {tickets[0].pk, tickets[1].pk, tickets[2].pk}  # the first whole page, due first
    real = sla.recompute

    def recompute(ticket: Ticket, **kwargs: object) -> sla.Clocks:
        if ticket.pk in broken:
            raise RuntimeError("a bad ticket")
        return real(ticket, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sla, "recompute", recompute)
    with time_machine.travel(at(11), tick=False):
        assert sla.sweep(batch=3) == 2
    assert [bool(sla_events(t)) for t in tickets] == [False, False, False, True, True]
    assert all(fresh(t).sla_wake_at is not None for t in tickets[:3])  # still due next time


def test_a_reply_in_time_fulfils_and_nothing_is_recorded() -> None:
    policy(targets={"first_reply": 60})
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(9.5), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="On it")
    assert fresh(ticket).sla_wake_at is None
    with time_machine.travel(at(12), tick=False):
        assert sla.sweep() == 0
    assert sla_events(ticket) == []


def test_pending_pauses_the_requester_wait_target() -> None:
    policy(targets={"requester_wait": 120}, warning=None)
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    stored = fresh(ticket)
    assert stored.sla_next_breach_at is None  # paused: cannot breach
    assert stored.sla_wake_at is None
    with time_machine.travel(at(15), tick=False):
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="here you go")
    # One hour used before the pause, one to go from 15:00.
    assert fresh(ticket).sla_next_breach_at == at(16)


def test_on_hold_pauses_agent_work_but_not_requester_wait() -> None:
    policy(targets={"requester_wait": 120, "agent_work": 60}, warning=None)
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(9.5), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.ON_HOLD})
    assert fresh(ticket).sla_next_breach_at == at(11)  # requester wait runs on; agent work waits
    with time_machine.travel(at(12), tick=False):
        sla.sweep()
    assert sla_events(ticket) == [("breach", "requester_wait", at(11))]


def test_raising_the_priority_past_the_elapsed_time_breaches_at_the_change() -> None:
    standard = policy(targets={"first_reply": 240}, warning=None)
    SlaTarget.objects.create(policy=standard, metric="first_reply", priority="urgent", minutes=30,
                             business_hours=False)  # fmt: skip
    SlaPolicy.objects.filter(pk=standard.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    assert fresh(ticket).sla_next_breach_at == at(13)
    with time_machine.travel(at(10), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    assert sla_events(ticket) == [("breach", "first_reply", at(10))]  # at the change, not 09:30


def test_a_policy_change_after_a_breach_keeps_history_and_never_back_dates() -> None:
    policy("VIP", targets={"first_reply": 30}, warning=None, tags=["vip"])
    policy("Standard", targets={"first_reply": 60}, warning=None)
    SlaPolicy.objects.filter(name="VIP").update(position=0)
    SlaPolicy.objects.filter(name="Standard").update(position=1)
    sla.clear_cache()
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket(actor=agent)
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="hello")
    assert fresh(ticket).sla_policy.name == "Standard"  # type: ignore[union-attr]
    # At 09:40 the ticket turns VIP: its 30 minutes were up at 09:30 under a policy that did not
    # apply then, so the breach is recorded at the change, not back-dated.
    with time_machine.travel(at(9) + datetime.timedelta(minutes=40), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": ["vip"]})
    assert fresh(ticket).sla_policy.name == "VIP"  # type: ignore[union-attr]
    breach_at = at(9) + datetime.timedelta(minutes=40)
    assert sla_events(ticket) == [("breach", "first_reply", breach_at)]
    # Back to Standard: the record stays, and the same target instance does not breach twice.
    with time_machine.travel(at(9.9), tick=False):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"remove_tags": ["vip"]})
    with time_machine.travel(at(10.5), tick=False):
        sla.sweep()
    assert fresh(ticket).sla_policy.name == "Standard"  # type: ignore[union-attr]
    assert sla_events(ticket) == [("breach", "first_reply", breach_at)]
    assert list(TicketEvent.objects.filter(ticket=ticket, field="sla_policy").values_list("new__name", flat=True)) == [
        "Standard",
        "VIP",
        "Standard",
    ]


def test_editing_a_policy_does_not_back_date_breaches() -> None:
    standard = policy(targets={"first_reply": 600}, warning=None)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(11), tick=False):
        target = standard.targets.get()
        target.minutes = 60  # saving the target marks the policy changed now
        target.save()
        assert sla.recompute_unsolved() == 1
    # Under the new target it was due at 10:00, but that target did not exist then.
    assert sla_events(ticket) == [("breach", "first_reply", at(11))]


def test_a_ticket_created_outside_business_hours_starts_counting_at_opening() -> None:
    calendar = BusinessCalendar.objects.create(name="Office", time_zone="Europe/Berlin")
    for day in range(5):
        BusinessInterval.objects.create(calendar=calendar, weekday=day, start=datetime.time(9),
                                        end=datetime.time(17))  # fmt: skip
    DefaultCalendar.objects.create(calendar=calendar)
    policy(targets={"first_reply": 120}, business=True, warning=None)
    saturday = datetime.datetime(2026, 3, 7, 10, tzinfo=UTC)
    with time_machine.travel(saturday, tick=False):
        ticket = factories.ticket()
    # Monday 09:00 Berlin is 08:00 UTC; two business hours later.
    assert fresh(ticket).sla_next_breach_at == datetime.datetime(2026, 3, 9, 10, tzinfo=UTC)


def test_the_team_calendar_wins_over_the_default() -> None:
    office = BusinessCalendar.objects.create(name="Office", time_zone="UTC")
    night = BusinessCalendar.objects.create(name="Night", time_zone="UTC")
    for day in range(7):
        BusinessInterval.objects.create(calendar=office, weekday=day, start=datetime.time(9), end=datetime.time(17))
        BusinessInterval.objects.create(calendar=night, weekday=day, start=datetime.time(20), end=datetime.time(4))
    DefaultCalendar.objects.create(calendar=office)
    team = factories.team()
    TeamCalendar.objects.create(team=team, calendar=night)
    policy(targets={"first_reply": 60}, business=True, warning=None)
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(10), tick=False):
        ticket = factories.ticket(actor=agent, team=team)
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="hello")
    assert fresh(ticket).sla_next_breach_at == at(21)


def test_conditions_choose_the_first_matching_policy() -> None:
    org = factories.organization(tier="enterprise")
    policy("Enterprise", targets={"first_reply": 15}, tiers=["enterprise"], channels=["email", "api"])
    policy("Everyone", targets={"first_reply": 60})
    SlaPolicy.objects.filter(name="Enterprise").update(position=0)
    SlaPolicy.objects.filter(name="Everyone").update(position=1)
    sla.clear_cache()
    big = factories.ticket(requester=factories.customer(organization=org))
    small = factories.ticket()
    assert fresh(big).sla_policy.name == "Enterprise"  # type: ignore[union-attr]
    assert fresh(small).sla_policy.name == "Everyone"  # type: ignore[union-attr]


def test_no_policy_no_clock() -> None:
    ticket = factories.ticket()
    stored = fresh(ticket)
    assert (stored.sla_policy_id, stored.sla_next_breach_at, stored.sla_wake_at) == (None, None, None)
    assert not TicketEvent.objects.filter(ticket=ticket, field__startswith="sla").exists()


def test_a_pinned_policy_wins_and_records_its_cause() -> None:
    policy("Standard", targets={"first_reply": 60})
    special = policy("Special", targets={"first_reply": 10}, priorities=["urgent"])
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
        sla.pin_policy(ticket, policy_id=special.pk, calendar_id=None, cause="trigger:7")
    assert ticket.sla_policy_id == special.pk
    assert fresh(ticket).sla_next_breach_at == at(9) + datetime.timedelta(minutes=10)
    pin = TicketEvent.objects.get(ticket=ticket, field="sla_pin")
    assert pin.cause == "trigger:7"


def test_pinning_an_unknown_policy_is_refused() -> None:
    from deskpilot.core.errors import InvalidInput

    ticket = factories.ticket()
    with pytest.raises(InvalidInput, match="policy"):
        sla.pin_policy(ticket, policy_id=999999, calendar_id=None, cause="trigger:1")


def test_an_update_adds_a_bounded_number_of_queries() -> None:
    policy(targets={"first_reply": 60, "total_resolution": 600})
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    with CaptureQueriesContext(connection) as with_sla:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.NORMAL})
    SlaPolicy.objects.all().delete()
    sla.clear_cache()
    other = factories.ticket()
    actions.update_ticket(other, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    with CaptureQueriesContext(connection) as without:
        actions.update_ticket(other, actor=agent, via=Via.WEB, changes={"priority": Priority.NORMAL})
    # The events, the policy stamp, and the ticket's SLA fields.
    assert len(with_sla) - len(without) <= 3, [q["sql"] for q in with_sla.captured_queries]


def test_wake_ignores_a_ticket_that_is_not_due() -> None:
    policy(targets={"first_reply": 60})
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(9.1), tick=False):
        assert sla.wake(ticket.pk) is False
