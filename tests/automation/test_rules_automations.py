"""Time-based automations (automation.rules.automations, rule_tasks): calendar and business
hours, conditions, once per qualifying period, and the job on SqliteHuey and RedisHuey."""

from __future__ import annotations

import datetime
import os
import uuid
from datetime import UTC

import pytest
import time_machine
from huey import RedisHuey, SqliteHuey
from huey.api import PeriodicTask

from deskpilot.accounts.models import Role
from deskpilot.automation import rule_tasks
from deskpilot.automation.models import Automation, AutomationRun
from deskpilot.automation.rules import automations, engine, store
from deskpilot.core.models import Notification
from deskpilot.policies import actions as calendar_actions
from deskpilot.policies.models import DefaultCalendar
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db

MONDAY_9 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh_cache():
    engine.clear_cache()
    yield
    engine.clear_cache()


def automation(**fields) -> Automation:
    fields.setdefault("name", "rule")
    fields.setdefault("status", Status.PENDING)
    return store.save_rule(Automation(**fields))


def pending_ticket(at: datetime.datetime, **kwargs) -> Ticket:
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at, tick=False):
        ticket = factories.ticket(**kwargs)
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    return ticket


def run(at: datetime.datetime) -> int:
    with time_machine.travel(at, tick=False):
        return automations.run_automations()


def test_pending_for_seven_days_is_solved_once():
    rule = automation(hours=7 * 24, actions=[{"type": "set", "field": "status", "value": "solved"}])
    ticket = pending_ticket(MONDAY_9)
    assert run(MONDAY_9 + datetime.timedelta(days=7) - HOUR) == 0
    assert run(MONDAY_9 + datetime.timedelta(days=7, minutes=1)) == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    solved = TicketEvent.objects.get(ticket=ticket, field="status", new=Status.SOLVED)
    assert (solved.cause, solved.via, solved.actor_user_id) == (f"automation:{rule.pk}", Via.RULE, None)
    assert AutomationRun.objects.filter(automation=rule, ticket=ticket).count() == 1


def test_business_hours_count_only_open_time():
    calendar = calendar_actions.create_calendar(
        name="Office", time_zone="UTC", intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    )
    DefaultCalendar.objects.create(calendar=calendar)
    agent = factories.user(Role.AGENT)
    automation(
        hours=16,
        business_hours=True,
        actions=[
            {"type": "add_tags", "tags": ["reminded"]},
            {"type": "notify", "users": [agent.pk], "subject": "Still pending", "text": "#{{ ticket.id }}"},
        ],
    )
    ticket = pending_ticket(MONDAY_9)
    # Tuesday noon: 27 calendar hours, 11 business hours.
    assert run(MONDAY_9 + datetime.timedelta(days=1, hours=3)) == 0
    # Wednesday 10:00: 17 business hours.
    assert run(MONDAY_9 + datetime.timedelta(days=2, hours=1)) == 1
    assert set(ticket.tags.values_list("name", flat=True)) == {"reminded"}
    assert Notification.objects.filter(user=agent, ticket=ticket).count() == 1


def test_a_rerun_does_nothing_and_a_new_period_acts_again():
    rule = automation(hours=72, actions=[{"type": "add_tags", "tags": ["reminded"]}])
    ticket = pending_ticket(MONDAY_9)
    due = MONDAY_9 + datetime.timedelta(hours=73)
    assert run(due) == 1
    events = TicketEvent.objects.filter(ticket=ticket).count()
    # The tag changed the ticket; its time in pending did not restart: nothing more, however often.
    assert run(due) == 0
    assert run(due + datetime.timedelta(days=3)) == 0
    assert TicketEvent.objects.filter(ticket=ticket).count() == events
    # The customer answers, the agent asks again: a new period.
    with time_machine.travel(due + HOUR, tick=False):
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="here you go")
        actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"status": Status.PENDING})
    assert run(due + 2 * HOUR) == 0
    assert run(due + datetime.timedelta(hours=75)) == 1
    assert AutomationRun.objects.filter(automation=rule, ticket=ticket).count() == 2


def test_conditions_and_other_statuses_are_respected():
    automation(
        hours=24,
        conditions=[{"field": "tags", "op": "includes", "value": ["trial"]}],
        actions=[{"type": "set", "field": "status", "value": "solved"}],
    )
    agent = factories.user(Role.AGENT)
    trial = pending_ticket(MONDAY_9, tags=["trial"], actor=agent)
    plain = pending_ticket(MONDAY_9)
    with time_machine.travel(MONDAY_9, tick=False):
        open_one = factories.ticket(tags=["trial"], actor=agent)
    assert run(MONDAY_9 + datetime.timedelta(days=2)) == 1
    statuses = {t.pk: Ticket.objects.get(pk=t.pk).status for t in (trial, plain, open_one)}
    assert statuses == {trial.pk: Status.SOLVED, plain.pk: Status.PENDING, open_one.pk: Status.NEW}


def test_the_updated_clock():
    automation(status=Status.NEW, clock="updated", hours=48, actions=[{"type": "add_tags", "tags": ["stale"]}])
    agent = factories.user(Role.AGENT)
    with time_machine.travel(MONDAY_9, tick=False):
        quiet = factories.ticket(actor=agent)
        busy = factories.ticket(actor=agent)
    with time_machine.travel(MONDAY_9 + datetime.timedelta(hours=40), tick=False):
        actions.update_ticket(busy, actor=agent, via=Via.WEB, changes={"subject": "still working"})
    assert run(MONDAY_9 + datetime.timedelta(hours=50)) == 1
    assert set(quiet.tags.values_list("name", flat=True)) == {"stale"}
    assert set(busy.tags.values_list("name", flat=True)) == set()


def test_a_refused_action_is_logged_and_not_retried(caplog):
    leaver = factories.user(Role.AGENT)
    rule = automation(hours=1, actions=[{"type": "assign", "assignee": leaver.pk}])
    ticket = pending_ticket(MONDAY_9)
    leaver.is_active = False
    leaver.save()
    assert run(MONDAY_9 + 2 * HOUR) == 0
    assert "could not act" in caplog.text
    assert AutomationRun.objects.filter(automation=rule, ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


def test_the_job_runs_every_five_minutes():
    assert rule_tasks.automations.name == "automation.run_automations"
    assert issubclass(rule_tasks.automations.task_class, PeriodicTask)
    task = rule_tasks.automations.s()
    runs = [m for m in range(60) if task.validate_datetime(datetime.datetime(2026, 3, 1, 9, m))]
    assert runs == list(range(0, 60, 5))


BACKENDS = [
    "sqlite",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(
            not os.environ.get("DESKPILOT_TEST_REDIS_URL"), reason="DESKPILOT_TEST_REDIS_URL is not set"
        ),
    ),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_through_a_real_queue_twice_acts_once(backend, tmp_path):
    """The job goes through the queue's storage (serialised, dequeued, executed as a worker
    does); two overlapping enqueues act once between them."""
    name = f"deskpilot-rules-test-{uuid.uuid4().hex}"
    if backend == "redis":
        huey = RedisHuey(name, url=os.environ["DESKPILOT_TEST_REDIS_URL"])
    else:
        huey = SqliteHuey(name, filename=str(tmp_path / "jobs.sqlite3"))
    job = huey.task(name="automation.run_automations")(automations.run_automations)
    automation(hours=24, actions=[{"type": "add_tags", "tags": ["reminded"]}])
    ticket = pending_ticket(MONDAY_9)
    try:
        with time_machine.travel(MONDAY_9 + datetime.timedelta(days=2), tick=False):
            first, second = job(), job()
            assert len(huey) == 2
            results = []
            while (task := huey.dequeue()) is not None:
                results.append(huey.execute(task))
        assert sorted(results) == [0, 1]
        assert first.get() + second.get() == 1
        assert set(ticket.tags.values_list("name", flat=True)) == {"reminded"}
    finally:
        huey.storage.flush_all()


def test_an_automation_cannot_act_on_closed_tickets():
    from deskpilot.automation.rules.schema import RuleError

    with pytest.raises(RuleError, match=r"^status: closed tickets cannot be changed"):
        automation(status=Status.CLOSED, hours=1, actions=[{"type": "add_tags", "tags": ["x"]}])


def test_finding_due_tickets_costs_the_same_for_more_tickets():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    automation(
        hours=1,
        conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
        actions=[{"type": "add_tags", "tags": ["x"]}],
    )
    counts = []
    for size in (2, 12):
        for _ in range(size):
            pending_ticket(MONDAY_9)
        with CaptureQueriesContext(connection) as queries:
            assert run(MONDAY_9 + 2 * HOUR) == 0
        counts.append(len(queries))
    assert counts == [2, 2]  # the automations, one batch of candidates


def test_a_crash_mid_act_loses_nothing(monkeypatch):
    """The record and the act commit together: a failure in between leaves the ticket due, and
    the next run acts."""
    from deskpilot.automation.rules import actions as rule_actions

    rule = automation(hours=1, actions=[{"type": "add_tags", "tags": ["reminded"]}])
    ticket = pending_ticket(MONDAY_9)
    real_apply = rule_actions.apply

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(rule_actions, "apply", crash)
    assert run(MONDAY_9 + 2 * HOUR) == 0
    assert not AutomationRun.objects.filter(automation=rule).exists()
    monkeypatch.setattr(rule_actions, "apply", real_apply)
    assert run(MONDAY_9 + 3 * HOUR) == 1
    assert set(ticket.tags.values_list("name", flat=True)) == {"reminded"}
