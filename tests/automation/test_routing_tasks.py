"""Routing jobs (automation.routing_tasks): the queue is assigned after an agent becomes
available, by a job that survives a lost worker on SqliteHuey and RedisHuey alike, and by the
sweep every minute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from huey.api import Huey

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import Availability, Role, RoutingMode, Team, User
from deskpilot.automation import routing_tasks
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Ticket, Via
from tests import factories
from tests.queues import BACKENDS, new_queue, runs_every_minute

pytestmark = pytest.mark.django_db


def queued_team(*people: User) -> tuple[Team, Ticket]:
    team = factories.team(members=list(people))
    account_actions.set_team_routing(team, actor=None, mode=RoutingMode.ROUND_ROBIN)
    ticket = factories.ticket(routed_team=team)
    assert ticket.assignee_id is None
    return team, ticket


def assignee_of(ticket: Ticket) -> int | None:
    return Ticket.objects.values_list("assignee_id", flat=True).get(pk=ticket.pk)


def test_becoming_available_assigns_the_queue_once_the_change_commits(django_capture_on_commit_callbacks: Any) -> None:
    agent = factories.user(Role.AGENT)
    _, ticket = queued_team(agent)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        account_actions.set_availability(agent, Availability.ONLINE, actor=agent)
    assert assignee_of(ticket) is None  # not before the commit: the job must see the change
    for callback in pending:
        callback()  # the commit; in tests the job runs inline when queued
    assert assignee_of(ticket) == agent.pk


def test_going_away_queues_no_job(django_capture_on_commit_callbacks: Any) -> None:
    agent = factories.user(Role.AGENT)
    queued_team(agent)
    with django_capture_on_commit_callbacks() as pending:
        account_actions.set_availability(agent, Availability.AWAY, actor=agent)
    assert pending == []


def test_leaving_manual_mode_assigns_the_waiting_tickets(django_capture_on_commit_callbacks: Any) -> None:
    agent = factories.user(Role.AGENT)
    account_actions.set_availability(agent, Availability.ONLINE, actor=agent)
    team = factories.team(members=[agent])
    ticket = factories.ticket(routed_team=team)
    assert ticket.assignee_id is None
    with django_capture_on_commit_callbacks(execute=True):
        account_actions.set_team_routing(team, actor=None, mode=RoutingMode.LEAST_LOADED)
    assert assignee_of(ticket) == agent.pk


def test_more_capacity_assigns_what_waited_for_room(django_capture_on_commit_callbacks: Any) -> None:
    agent = factories.user(Role.AGENT)
    account_actions.set_availability(agent, Availability.ONLINE, actor=agent)
    account_actions.set_agent_routing(agent, actor=None, capacity=1)
    team = factories.team(members=[agent])
    account_actions.set_team_routing(team, actor=None, mode=RoutingMode.LEAST_LOADED)
    first, second = factories.ticket(routed_team=team), factories.ticket(routed_team=team)
    assert (first.assignee_id, second.assignee_id) == (agent.pk, None)
    with django_capture_on_commit_callbacks(execute=True):
        account_actions.set_agent_routing(agent, actor=None, capacity=2)
    assert assignee_of(second) == agent.pk


def test_the_jobs_are_named_and_the_sweep_runs_every_minute() -> None:
    assert routing_tasks.assign_queued.name == "routing.assign_queued"
    assert routing_tasks.sweep_queue.name == "routing.sweep_queue"
    assert runs_every_minute(routing_tasks.sweep_queue)


def test_the_sweep_assigns_what_a_lost_job_left_behind() -> None:
    agent = factories.user(Role.AGENT)
    _, ticket = queued_team(agent)
    # Online without the job (it was lost): the ticket still waits...
    User.objects.filter(pk=agent.pk).update(availability=Availability.ONLINE)
    assert assignee_of(ticket) is None
    # ...until the sweep, a minute later at most; a second run changes nothing.
    assert routing_tasks.sweep_queue.call_local() == 1
    assert routing_tasks.sweep_queue.call_local() == 0
    assert assignee_of(ticket) == agent.pk


# --- real queues ---------------------------------------------------------------------------------


def _queue(backend: str, tmp_path: Path) -> tuple[Huey, Any]:
    """A queue of its own (one per test: runs may share Redis) carrying the routing job under its
    real name; the tests' settings run jobs inline, so the job is registered here again."""
    huey = new_queue(backend, tmp_path, "routing")
    job = huey.task(name="routing.assign_queued")(routing_tasks.assign_queued.call_local)
    return huey, job


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_job_runs_from_a_real_queue_and_twice_is_harmless(backend: str, tmp_path: Path) -> None:
    agent = factories.user(Role.AGENT)
    team, ticket = queued_team(agent)
    User.objects.filter(pk=agent.pk).update(availability=Availability.ONLINE)
    huey, job = _queue(backend, tmp_path)
    try:
        job([team.pk])
        job([team.pk])  # queued twice (a retry, two web processes)
        assert len(huey) == 2
        results = [huey.execute(huey.dequeue()) for _ in range(2)]
        assert results == [1, 0]
        assert assignee_of(ticket) == agent.pk
    finally:
        huey.storage.flush_all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_worker_killed_holding_the_job_loses_no_ticket(backend: str, tmp_path: Path) -> None:
    agent = factories.user(Role.AGENT)
    team, ticket = queued_team(agent)
    User.objects.filter(pk=agent.pk).update(availability=Availability.ONLINE)
    huey, job = _queue(backend, tmp_path)
    try:
        job([team.pk])
        taken = huey.dequeue()  # a worker takes the job, and is killed before running it
        assert taken is not None
        assert len(huey) == 0
        assert assignee_of(ticket) is None  # nothing half-done: the ticket is still queued
        assert routing_tasks.sweep_queue.call_local() == 1  # the next sweep assigns it
        assert assignee_of(ticket) == agent.pk
    finally:
        huey.storage.flush_all()


def test_solving_a_ticket_gives_the_freed_room_to_the_queue(django_capture_on_commit_callbacks: Any) -> None:
    agent = factories.user(Role.AGENT)
    account_actions.set_availability(agent, Availability.ONLINE, actor=agent)
    account_actions.set_agent_routing(agent, actor=None, capacity=1)
    team = factories.team(members=[agent])
    account_actions.set_team_routing(team, actor=None, mode=RoutingMode.ROUND_ROBIN)
    first, waiting = factories.ticket(routed_team=team), factories.ticket(routed_team=team)
    assert (first.assignee_id, waiting.assignee_id) == (agent.pk, None)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_ticket(first, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert assignee_of(waiting) == agent.pk


def test_a_solve_with_no_queue_queues_no_job(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = factories.user(Role.AGENT)
    account_actions.set_availability(agent, Availability.ONLINE, actor=agent)
    team = factories.team(members=[agent])
    account_actions.set_team_routing(team, actor=None, mode=RoutingMode.ROUND_ROBIN)
    ticket = factories.ticket(routed_team=team)
    jobs: list[object] = []
    monkeypatch.setattr(routing_tasks, "assign_queued", jobs.append)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert jobs == []


def test_a_solve_in_a_manual_team_queues_no_job(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    ticket = factories.ticket(team=team, assignee=agent, actor=agent)
    factories.ticket(routed_team=team)  # waiting for a person to assign it, as manual teams do
    jobs: list[object] = []
    monkeypatch.setattr(routing_tasks, "assign_queued", jobs.append)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert jobs == []
