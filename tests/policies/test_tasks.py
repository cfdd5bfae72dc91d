"""SLA jobs (deskpilot.policies.tasks) on real queues: the per-ticket timer, the sweep every minute
and the recompute after a policy change, on SqliteHuey and on RedisHuey (DESKPILOT_TEST_REDIS_URL).

Each test builds a queue of its own carrying the jobs under their real names, and puts it where
the application code looks for them (``policies.tasks.sla_timer``, ``.recompute_unsolved``), so
the timers ``policies.sla`` schedules go through the queue's storage as in production. A worker
is played by hand, the way Huey's consumer works: the scheduler moves due timers from the
schedule to the queue and enqueues the periodic jobs whose minute has come; a worker dequeues and
executes. A worker "killed" is one that dequeued a job and never ran it (or crashed inside it).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils.module_loading import autodiscover_modules
from huey.api import Huey, PeriodicTask
from huey.contrib.djhuey import HUEY

from deskpilot.accounts.models import Role
from deskpilot.policies import sla, sla_actions
from deskpilot.policies import tasks as sla_tasks
from deskpilot.policies.models import RecomputeRequest, SlaPolicy, SlaTarget
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, TicketEvent, Via
from tests import factories
from tests.queues import BACKENDS, consumer_pass, new_queue, periodic_like, runs_every_minute

pytestmark = pytest.mark.django_db

T9 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, 09:00


def at(minutes: float) -> datetime.datetime:
    """``minutes`` after 09:00."""
    return T9 + datetime.timedelta(seconds=round(minutes * 60))


def policy(*, minutes: int = 60, warning: int | None = None, **conditions: Any) -> SlaPolicy:
    """An around-the-clock first-reply target, in force since long before the tickets."""
    created = SlaPolicy.objects.create(name=f"Standard {uuid.uuid4().hex[:6]}", warning_percent=warning, **conditions)
    SlaTarget.objects.create(policy=created, metric="first_reply", priority="normal", minutes=minutes,
                             business_hours=False)  # fmt: skip
    SlaPolicy.objects.filter(pk=created.pk).update(updated_at=T9 - datetime.timedelta(days=30))
    sla.clear_cache()
    return created


def findings(ticket: Ticket) -> list[tuple[str, str, datetime.datetime]]:
    return [
        (e.new["kind"], e.new["metric"], e.created_at)  # type: ignore[index]
        for e in TicketEvent.objects.filter(ticket=ticket, field="sla").order_by("created_at", "id")
    ]


def stored(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# --- the jobs as the worker knows them -----------------------------------------------------------


def test_the_jobs_are_named_and_the_sweep_runs_every_minute() -> None:
    assert sla_tasks.sla_timer.name == "policies.sla_timer"
    assert sla_tasks.sla_sweep.name == "policies.sla_sweep"
    assert sla_tasks.recompute_unsolved.name == "policies.recompute_unsolved"
    assert issubclass(sla_tasks.sla_sweep.task_class, PeriodicTask)
    assert not issubclass(sla_tasks.sla_timer.task_class, PeriodicTask)
    assert not issubclass(sla_tasks.recompute_unsolved.task_class, PeriodicTask)
    # What the worker (run_huey) finds by importing every app's tasks module.
    autodiscover_modules("tasks")
    registered = set(HUEY._registry._registry)
    for job in (sla_tasks.sla_timer, sla_tasks.sla_sweep, sla_tasks.recompute_unsolved):
        assert f"deskpilot.policies.tasks.{job.name}" in registered
    assert "policies.sla_sweep" in {t.name for t in HUEY._registry.periodic_tasks}
    assert runs_every_minute(sla_tasks.sla_sweep)


# --- real queues ---------------------------------------------------------------------------------


@dataclass
class Jobs:
    huey: Huey
    timer: Any
    sweep: Any
    recompute: Any

    def tick(self, now: datetime.datetime, *, minute: bool = False) -> list[Any]:
        return consumer_pass(self.huey, now, minute=minute)


@pytest.fixture(params=BACKENDS)
def jobs(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Jobs]:
    """A queue of its own (one per test: runs may share Redis) with the SLA jobs under their real
    names; the tests' settings run jobs inline, so they are registered here again, and the
    application's code is pointed at them."""
    huey = new_queue(request.param, tmp_path, "sla")
    queue = Jobs(
        huey=huey,
        timer=huey.task(name="policies.sla_timer")(sla_tasks.sla_timer.call_local),
        sweep=periodic_like(huey, sla_tasks.sla_sweep),
        recompute=huey.task(name="policies.recompute_unsolved")(sla_tasks.recompute_unsolved.call_local),
    )
    monkeypatch.setattr(sla_tasks, "sla_timer", queue.timer)
    monkeypatch.setattr(sla_tasks, "recompute_unsolved", queue.recompute)
    try:
        yield queue
    finally:
        huey.storage.flush_all()


def ticket_with_timer(django_capture_on_commit_callbacks: Any, when: datetime.datetime) -> Ticket:
    """A new ticket; once its creation commits, its clocks schedule the timer on the queue."""
    with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
        return factories.ticket()


def test_the_timer_records_the_breach_once_even_queued_twice(
    jobs: Jobs, django_capture_on_commit_callbacks: Any
) -> None:
    policy(minutes=60)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    assert stored(ticket).sla_wake_at == at(60)
    assert len(jobs.huey) == 1  # the timer, queued with its eta
    sla.schedule_timer(ticket.pk, at(60))  # a second one for the same wake-up (another process)
    assert len(jobs.huey) == 2
    # A worker picks both up early: not due, they wait in the schedule.
    assert jobs.tick(at(1)) == []
    assert jobs.huey.scheduled_count() == 2
    assert findings(ticket) == []
    assert jobs.tick(at(59.9)) == []  # still early, and the timers are not pulled out yet
    assert jobs.huey.scheduled_count() == 2
    # One second past the wake-up both run: one records the breach, the other finds nothing due.
    assert sorted(jobs.tick(at(60) + datetime.timedelta(seconds=1))) == [False, True]
    assert findings(ticket) == [("breach", "first_reply", at(60))]
    after = stored(ticket)
    assert (after.sla_wake_at, after.sla_next_breach_at) == (None, at(60))
    # Running a timer again later changes nothing.
    jobs.timer(ticket.pk)
    assert jobs.tick(at(90)) == [False]
    assert findings(ticket) == [("breach", "first_reply", at(60))]


def test_warning_then_breach_each_from_their_own_timer(jobs: Jobs, django_capture_on_commit_callbacks: Any) -> None:
    policy(minutes=60, warning=75)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    assert stored(ticket).sla_wake_at == at(45)
    # The warning's timer runs; recording it schedules the breach's timer (after commit).
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.tick(at(45) + datetime.timedelta(seconds=1)) == [True]
    assert findings(ticket) == [("warning", "first_reply", at(45))]
    assert stored(ticket).sla_wake_at == at(60)
    assert jobs.huey.pending_count() + jobs.huey.scheduled_count() == 1
    assert jobs.tick(at(60) + datetime.timedelta(seconds=1)) == [True]
    assert findings(ticket) == [("warning", "first_reply", at(45)), ("breach", "first_reply", at(60))]


def test_the_sweep_finds_what_no_timer_announced_within_a_minute(jobs: Jobs) -> None:
    policy(minutes=60)
    agent = factories.user(Role.AGENT)
    # Created without the commit hooks running: no timer was ever queued for these.
    with time_machine.travel(at(0.5), tick=False):
        late, also_late, answered = factories.ticket(), factories.ticket(), factories.ticket()
    with time_machine.travel(at(30), tick=False):
        later = factories.ticket()
        actions.add_message(answered, actor=agent, via=Via.WEB, body_text="On it")
    assert len(jobs.huey) == 0
    # The sweep runs at every minute; nothing is recorded before the breach's moment.
    assert jobs.tick(at(59), minute=True) == [0]
    assert jobs.tick(at(60), minute=True) == [0]
    assert findings(late) == []
    # Due at 10:00:30, found by the sweep of 10:01 and recorded at its moment.
    assert jobs.tick(at(61), minute=True) == [2]
    for ticket in (late, also_late):
        assert findings(ticket) == [("breach", "first_reply", at(60.5))]
        event = TicketEvent.objects.get(ticket=ticket, field="sla")
        assert (event.via, event.cause, event.actor_user_id) == (Via.SYSTEM, "sla", None)
        assert event.new["moment"] == at(60.5).isoformat()  # type: ignore[index]
        assert stored(ticket).sla_wake_at is None
    assert findings(answered) == []
    assert findings(later) == []
    assert jobs.tick(at(62), minute=True) == [0]  # the next minute's sweep finds nothing more
    assert jobs.tick(at(91), minute=True) == [1]  # ...until the next one is due
    assert findings(later) == [("breach", "first_reply", at(90))]


def test_two_sweeps_at_once_record_each_breach_once(jobs: Jobs) -> None:
    policy(minutes=60)
    with time_machine.travel(at(0), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(61), tick=False):
        jobs.sweep()
        jobs.sweep()  # two consumers' schedulers, each enqueueing the minute's sweep
    assert len(jobs.huey) == 2
    assert sorted(jobs.tick(at(61), minute=True)) == [0, 0, 1]  # the two queued, and this minute's own
    assert findings(ticket) == [("breach", "first_reply", at(60))]


class Killed(BaseException):
    """The worker's process dying: nothing after it runs, nothing in its transaction commits."""


def test_a_worker_killed_holding_the_timer_loses_nothing(jobs: Jobs, django_capture_on_commit_callbacks: Any) -> None:
    policy(minutes=60)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    assert jobs.tick(at(1)) == []  # the timer waits in the schedule
    with time_machine.travel(at(60) + datetime.timedelta(seconds=1), tick=False):
        naive = (at(60) + datetime.timedelta(seconds=1)).replace(tzinfo=None)
        [due] = jobs.huey.read_schedule(naive)  # the scheduler takes it out...
        jobs.huey.enqueue(due)
        taken = jobs.huey.dequeue()  # ...a worker takes it, and is killed before running it
    assert taken is not None
    assert (len(jobs.huey), jobs.huey.scheduled_count()) == (0, 0)  # the job is gone
    assert findings(ticket) == []
    assert stored(ticket).sla_wake_at == at(60)  # the wake-up is still there...
    assert jobs.tick(at(61), minute=True) == [1]  # ...and the next sweep records the breach, at its moment
    assert findings(ticket) == [("breach", "first_reply", at(60))]


def test_a_worker_killed_inside_the_timer_loses_nothing(
    jobs: Jobs, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy(minutes=60)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    assert jobs.tick(at(1)) == []
    real_store = sla._store

    def die(*args: Any, **kwargs: Any) -> None:
        raise Killed  # after the breach was written, before the transaction commits

    monkeypatch.setattr(sla, "_store", die)
    with pytest.raises(Killed):
        jobs.tick(at(60) + datetime.timedelta(seconds=1))
    monkeypatch.setattr(sla, "_store", real_store)
    assert (len(jobs.huey), jobs.huey.scheduled_count()) == (0, 0)
    assert findings(ticket) == []  # rolled back with the transaction
    assert stored(ticket).sla_wake_at == at(60)
    assert jobs.tick(at(61), minute=True) == [1]
    assert findings(ticket) == [("breach", "first_reply", at(60))]


def test_a_timer_that_fires_early_does_no_harm(jobs: Jobs, django_capture_on_commit_callbacks: Any) -> None:
    policy(minutes=60, warning=50)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    before = stored(ticket)
    assert before.sla_wake_at == at(30)
    # A timer without an eta (a worker's clock ahead, a stray duplicate) runs at once.
    jobs.timer(ticket.pk)
    assert jobs.tick(at(10)) == [False]
    after = stored(ticket)
    assert (after.sla_wake_at, after.sla_next_breach_at) == (before.sla_wake_at, before.sla_next_breach_at)
    assert findings(ticket) == []
    # The real timer still does its work at its time.
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.tick(at(30) + datetime.timedelta(seconds=1)) == [True]
    assert findings(ticket) == [("warning", "first_reply", at(30))]


def test_a_timer_outlived_by_a_reply_does_nothing(jobs: Jobs, django_capture_on_commit_callbacks: Any) -> None:
    policy(minutes=60)
    agent = factories.user(Role.AGENT)
    ticket = ticket_with_timer(django_capture_on_commit_callbacks, at(0))
    with time_machine.travel(at(20), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="On it")
    assert stored(ticket).sla_wake_at is None
    assert jobs.tick(at(60) + datetime.timedelta(seconds=1)) == [False]
    assert findings(ticket) == []


def test_recompute_unsolved_through_a_real_queue(jobs: Jobs, django_capture_on_commit_callbacks: Any) -> None:
    standard = policy(minutes=600)
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(0), tick=False):
        open_ticket, solved = factories.ticket(), factories.ticket()
        actions.update_ticket(solved, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert stored(open_ticket).sla_next_breach_at == at(600)
    with time_machine.travel(at(120), tick=False), django_capture_on_commit_callbacks(execute=True):
        target = standard.targets.get()
        target.minutes = 60  # saved through the model: the policy is changed from now on
        target.save()
        sla_actions.enqueue_recompute()  # what the managers' actions do after such a change
        sla_actions.enqueue_recompute()  # twice (two managers, two saves)
    assert len(jobs.huey) == 2
    assert findings(open_ticket) == []  # nothing before a worker runs it
    assert jobs.tick(at(120)) == [1, 1]  # the unsolved ticket only, each time
    # Due at 10:00 under the new target, which did not exist then: recorded at the change, once.
    assert findings(open_ticket) == [("breach", "first_reply", at(120))]
    assert findings(solved) == []


def test_a_worker_killed_holding_recompute_unsolved_loses_nothing(
    jobs: Jobs, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(at(0), tick=False):
        ticket = factories.ticket()
    assert stored(ticket).sla_policy_id is None
    with time_machine.travel(at(10), tick=False), django_capture_on_commit_callbacks(execute=True):
        policy(minutes=60)  # a new policy every ticket matches
        SlaPolicy.objects.update(updated_at=at(10))
        sla.clear_cache()
        sla_actions.enqueue_recompute()
    with time_machine.travel(at(10), tick=False):
        assert jobs.huey.dequeue() is not None  # a worker takes the job, and is killed
    for minute in range(11, 75):
        jobs.tick(at(minute), minute=True)  # the sweeps of the next hour
    assert stored(ticket).sla_policy_id is not None
    assert findings(ticket) == [("breach", "first_reply", at(60))]


def test_an_owed_recompute_is_settled_by_its_job_but_a_change_during_it_stays_owed(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(at(0), tick=False), django_capture_on_commit_callbacks(execute=False):
        sla_actions.enqueue_recompute()
    assert RecomputeRequest.objects.count() == 1
    with time_machine.travel(at(1), tick=False):
        assert not sla.claim_owed_recompute()  # just queued: its job is on the way
        sla.recompute_owed()
    assert not RecomputeRequest.objects.exists()

    with time_machine.travel(at(4), tick=False), django_capture_on_commit_callbacks(execute=False):
        sla_actions.enqueue_recompute()
    reading = sla.recompute_unsolved

    def a_manager_saves_meanwhile(**kwargs: Any) -> int:
        done = reading(**kwargs)
        RecomputeRequest.objects.create(requested_at=at(7), lease_until=at(9))
        return done

    monkeypatch.setattr(sla, "recompute_unsolved", a_manager_saves_meanwhile)
    with time_machine.travel(at(5), tick=False):
        sla.recompute_owed()
    # The job may have read the tickets before that change: it is owed another pass.
    assert list(RecomputeRequest.objects.values_list("requested_at", flat=True)) == [at(7)]


def test_two_sweeps_claim_a_lost_recompute_once(django_capture_on_commit_callbacks: Any) -> None:
    with time_machine.travel(at(0), tick=False), django_capture_on_commit_callbacks(execute=False):
        sla_actions.enqueue_recompute()  # queued, and the job is lost
    with time_machine.travel(at(1), tick=False):
        assert not sla.claim_owed_recompute()
    with time_machine.travel(at(3), tick=False):
        assert sla.claim_owed_recompute()
        assert not sla.claim_owed_recompute()  # the second sweep of the same minute
    with time_machine.travel(at(6), tick=False):
        assert sla.claim_owed_recompute()  # that job was lost too: again, a lease later
