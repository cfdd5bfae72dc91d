"""Routing in the database (automation.routing_service): the hook on ticket changes, the queue,
the team lock, the events it records and what it costs a ticket's creation."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts import actions as account_actions
from deskpilot.accounts.models import Availability, Role, RoutingMode, Team, User
from deskpilot.automation import routing_service
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketEvent, Via
from deskpilot.tickets.signals import events_recorded
from tests import factories

pytestmark = pytest.mark.django_db


def routed_team(mode: str, *agents: User, **settings: Any) -> Team:
    team = factories.team(members=list(agents))
    account_actions.set_team_routing(team, actor=None, mode=mode, **settings)
    return team


def online(*people: User) -> None:
    for person in people:
        account_actions.set_availability(person, Availability.ONLINE, actor=person)


def agents(n: int, *, available: bool = True) -> list[User]:
    people = [factories.user(Role.AGENT) for _ in range(n)]
    if available:
        online(*people)
    return people


def assignee_of(ticket: Ticket) -> int | None:
    return Ticket.objects.values_list("assignee_id", flat=True).get(pk=ticket.pk)


# --- when routing happens ------------------------------------------------------------------------


def test_a_new_ticket_of_a_round_robin_team_goes_to_the_agents_in_turn() -> None:
    people = agents(3)
    team = routed_team(RoutingMode.ROUND_ROBIN, *people)
    got = [factories.ticket(routed_team=team).assignee_id for _ in range(6)]
    ids = sorted(p.pk for p in people)
    assert got == ids + ids


def test_the_assignment_is_an_event_caused_by_routing_and_the_callers_copy_is_current() -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.ROUND_ROBIN, agent)
    ticket = factories.ticket(routed_team=team)
    assert ticket.assignee_id == agent.pk
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.version, ticket.assignee_id) == (stored.version, stored.assignee_id)
    event = TicketEvent.objects.get(ticket=ticket, field="assignee")
    assert (event.old, event.new, event.via, event.cause, event.actor_user_id) == (
        None,
        agent.pk,
        Via.RULE,
        "routing",
        None,
    )
    # The caller can go on with the version it holds.
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"subject": "x"}, expected_version=ticket.version)


def test_a_ticket_created_with_an_assignee_or_without_a_team_is_left_alone() -> None:
    first, second = agents(2)
    team = routed_team(RoutingMode.ROUND_ROBIN, first, second)
    mine = factories.ticket(team=team, assignee=second, actor=second)
    assert mine.assignee_id == second.pk
    assert factories.ticket().assignee_id is None
    assert not TicketEvent.objects.filter(cause="routing").exists()


def test_a_manual_team_is_never_routed() -> None:
    people = agents(2)
    team = routed_team(RoutingMode.MANUAL, *people)
    assert factories.ticket(routed_team=team).assignee_id is None
    assert routing_service.assign_queued() == 0


def test_moving_a_ticket_to_a_routed_team_routes_it() -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.LEAST_LOADED, agent)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": team})
    assert ticket.assignee_id == agent.pk


def test_unassigning_an_open_ticket_routes_it_again() -> None:
    first, second = agents(2)
    team = routed_team(RoutingMode.LEAST_LOADED, first, second)
    ticket = factories.ticket(routed_team=team)
    holder = ticket.assignee_id
    other = second if holder == first.pk else first
    actions.update_ticket(ticket, actor=other, via=Via.WEB, changes={"status": Status.OPEN})
    actions.update_ticket(ticket, actor=other, via=Via.WEB, changes={"assignee": None})
    # Both have one ticket... no: the holder had it, now nobody: equal loads, the turn goes on.
    assert ticket.assignee_id is not None
    assert TicketEvent.objects.filter(ticket=ticket, field="assignee", cause="routing").count() == 2


def test_solved_and_closed_tickets_are_never_routed() -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.ROUND_ROBIN, agent)
    account_actions.set_availability(agent, Availability.OFFLINE, actor=agent)
    ticket = factories.ticket(team=team, actor=agent, status=Status.SOLVED)
    assert ticket.assignee_id is None
    online(agent)
    assert routing_service.assign_queued() == 0
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    assert assignee_of(ticket) is None


def test_reopening_an_unassigned_solved_ticket_routes_it() -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.ROUND_ROBIN, agent)
    account_actions.set_availability(agent, Availability.OFFLINE, actor=agent)
    ticket = factories.ticket(team=team, actor=agent, status=Status.SOLVED)
    online(agent)
    actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Still broken")
    assert assignee_of(ticket) == agent.pk


def test_nobody_online_leaves_the_ticket_in_the_queue_until_someone_comes() -> None:
    people = agents(2, available=False)
    team = routed_team(RoutingMode.ROUND_ROBIN, *people)
    ticket = factories.ticket(routed_team=team)
    assert ticket.assignee_id is None
    assert routing_service.queued(team.pk) == [ticket.pk]
    account_actions.set_availability(people[0], Availability.AWAY, actor=people[0])
    assert routing_service.assign_queued() == 0
    online(people[1])  # in tests the job runs when the change commits; see test_routing_tasks.py
    assert routing_service.assign_queued() == 1
    assert assignee_of(ticket) == people[1].pk


def test_the_queue_is_served_most_urgent_first() -> None:
    (agent,) = agents(1, available=False)
    team = routed_team(RoutingMode.LEAST_LOADED, agent)
    low = factories.ticket(routed_team=team, priority=Priority.LOW)
    urgent = factories.ticket(routed_team=team, priority=Priority.URGENT)
    assert routing_service.queued(team.pk) == [urgent.pk, low.pk]


def test_an_agent_at_capacity_gets_no_more_and_the_rest_wait() -> None:
    (agent,) = agents(1)
    account_actions.set_agent_routing(agent, actor=None, capacity=2)
    team = routed_team(RoutingMode.ROUND_ROBIN, agent)
    tickets = [factories.ticket(routed_team=team) for _ in range(3)]
    assert [t.assignee_id for t in tickets] == [agent.pk, agent.pk, None]
    actions.update_ticket(tickets[0], actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    assert routing_service.assign_queued() == 1
    assert assignee_of(tickets[2]) == agent.pk


def test_least_loaded_weighs_open_tickets_by_priority() -> None:
    first, second = agents(2)
    team = routed_team(RoutingMode.LEAST_LOADED, first, second, weights={"urgent": 5})
    factories.ticket(team=team, assignee=first, actor=first, priority=Priority.URGENT)
    got = [factories.ticket(routed_team=team).assignee_id for _ in range(5)]
    # first carries 5 units: second takes the next four, then they are equal and take turns.
    assert got[:4] == [second.pk] * 4
    assert got[4] in (first.pk, second.pk)


def test_skills_routing_follows_the_ticket_language_and_tags() -> None:
    english, german, billing = agents(3)
    account_actions.set_agent_routing(german, actor=None, languages=["de"])
    account_actions.set_agent_routing(billing, actor=None, skills=["billing"])
    team = routed_team(RoutingMode.SKILLS, english, german, billing)
    from deskpilot.customers.models import Customer

    customer = factories.customer()
    Customer.objects.filter(pk=customer.pk).update(language="de")
    customer.refresh_from_db()
    assert factories.ticket(routed_team=team, requester=customer).assignee_id == german.pk
    agent = english
    tagged = factories.ticket(team=team, tags=["billing", "vip"], actor=agent)
    assert tagged.assignee_id == billing.pk


def test_skills_without_fallback_wait_for_someone_who_has_them() -> None:
    generalist, specialist = agents(2)
    account_actions.set_agent_routing(specialist, actor=None, skills=["billing"])
    account_actions.set_availability(specialist, Availability.AWAY, actor=specialist)
    team = routed_team(RoutingMode.SKILLS, generalist, specialist, skills_fallback=False)
    ticket = factories.ticket(team=team, tags=["billing"], actor=generalist)
    assert ticket.assignee_id is None
    other = factories.ticket(team=team, actor=generalist)
    assert other.assignee_id == generalist.pk
    online(specialist)
    assert routing_service.assign_queued() == 1
    assert assignee_of(ticket) == specialist.pk


def test_skills_with_fallback_give_it_to_the_closest_match() -> None:
    generalist, specialist = agents(2)
    account_actions.set_agent_routing(specialist, actor=None, skills=["billing"])
    account_actions.set_availability(specialist, Availability.AWAY, actor=specialist)
    team = routed_team(RoutingMode.SKILLS, generalist, specialist)
    assert factories.ticket(team=team, tags=["billing"], actor=generalist).assignee_id == generalist.pk


def test_unavailable_and_deactivated_agents_never_get_tickets() -> None:
    present, away, gone = agents(3)
    account_actions.set_availability(away, Availability.AWAY, actor=away)
    account_actions.update_user(gone, actor=None, is_active=False)
    team = routed_team(RoutingMode.ROUND_ROBIN, present, away, gone)
    assert {factories.ticket(routed_team=team).assignee_id for _ in range(5)} == {present.pk}


def test_a_routing_failure_rolls_the_creation_back(monkeypatch: pytest.MonkeyPatch) -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.ROUND_ROBIN, agent)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(routing_service, "_loads", broken)
    account_actions.set_agent_routing(agent, actor=None, capacity=5)
    before = Ticket.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(routed_team=team)
    assert Ticket.objects.count() == before


# --- the queue sweep -----------------------------------------------------------------------------


def test_the_sweep_is_idempotent() -> None:
    people = agents(2, available=False)
    team = routed_team(RoutingMode.ROUND_ROBIN, *people)
    tickets = [factories.ticket(routed_team=team) for _ in range(4)]
    online(*people)
    assert routing_service.assign_queued() == 4
    events = TicketEvent.objects.count()
    assert routing_service.assign_queued() == 0
    assert TicketEvent.objects.count() == events
    counts = sorted(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("assignee_id", flat=True))
    assert counts == sorted([people[0].pk, people[0].pk, people[1].pk, people[1].pk])


def test_the_sweep_for_one_team_leaves_other_teams_alone() -> None:
    (first,) = agents(1, available=False)
    (second,) = agents(1, available=False)
    one = routed_team(RoutingMode.ROUND_ROBIN, first)
    two = routed_team(RoutingMode.ROUND_ROBIN, second)
    a, b = factories.ticket(routed_team=one), factories.ticket(routed_team=two)
    online(first, second)
    assert routing_service.assign_queued([one.pk]) == 1
    assert (assignee_of(a), assignee_of(b)) == (first.pk, None)


def test_sign_out_makes_the_agent_offline(client: Any) -> None:
    (agent,) = agents(1)
    client.force_login(agent)
    client.post("/signout")
    agent.refresh_from_db()
    assert agent.availability == Availability.OFFLINE


# --- cost ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def only_routing_hooked() -> Iterator[None]:
    """Other apps' events_recorded receivers (SLA clocks, triggers) react to routing's assignment
    too; their cost is theirs to pin, so the count below is routing's own."""
    saved = list(events_recorded.receivers)
    events_recorded.receivers = [r for r in saved if r[0][0] == "deskpilot.automation.routing"]
    events_recorded.sender_receivers_cache.clear()
    try:
        yield
    finally:
        events_recorded.receivers = saved
        events_recorded.sender_receivers_cache.clear()


def _create_queries(team: Team, actor: User) -> int:
    requester = factories.customer()
    with only_routing_hooked(), CaptureQueriesContext(connection) as captured:
        actions.create_ticket(actor=actor, via=Via.WEB, subject="Cost", requester=requester, body_text="x", team=team)
    return len(captured.captured_queries)


# Round-robin: lock the team, read its online agents, then the assignment through
# update_ticket (savepoint, lock the ticket, read its team, check membership, update, event,
# version, release) and the cursor. Least-loaded and skills read the loads (one query); skills
# read the ticket's tags too (the requester's language comes with a new ticket).
ROUTING_QUERIES: dict[str, int] = {RoutingMode.ROUND_ROBIN: 11, RoutingMode.LEAST_LOADED: 12, RoutingMode.SKILLS: 13}


@pytest.mark.parametrize("mode", sorted(ROUTING_QUERIES))
def test_queries_routing_adds_to_a_create_do_not_grow_with_the_team(mode: str) -> None:
    """Pinned, so an N+1 cannot creep in: the same count with 2 agents and with 20, each with
    open tickets; a manual team costs nothing."""
    for size in (2, 20):
        people = agents(size)
        team = routed_team(RoutingMode.MANUAL, *people)
        for person in people:
            factories.ticket(team=team, assignee=person, actor=person)
        manual = _create_queries(team, people[0])
        account_actions.set_team_routing(team, actor=None, mode=mode)
        team.refresh_from_db()
        assert _create_queries(team, people[0]) - manual == ROUTING_QUERIES[mode], (mode, size)


def test_a_manual_team_costs_a_new_ticket_no_query() -> None:
    (agent,) = agents(1)
    team = routed_team(RoutingMode.MANUAL, agent)
    requester = factories.customer()
    with only_routing_hooked(), CaptureQueriesContext(connection) as with_team:
        actions.create_ticket(actor=agent, via=Via.WEB, subject="A", requester=requester, body_text="x", team=team)
    with only_routing_hooked(), CaptureQueriesContext(connection) as without:
        actions.create_ticket(actor=agent, via=Via.WEB, subject="B", requester=requester, body_text="x")
    assert len(with_team.captured_queries) == len(without.captured_queries)


# --- several processes at once -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_take_turns_under_the_team_lock() -> None:
    """Eight threads (each its own connection, like web processes) create tickets for one
    round-robin team at once: the team's row lock makes them take turns, so the counts stay
    within one. PostgreSQL only: SQLite serialises writers whole, which proves nothing here."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    import threading

    from django.db import connections

    people = agents(4)
    team = routed_team(RoutingMode.ROUND_ROBIN, *people)
    requester = factories.customer()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def create() -> None:
        try:
            start.wait()
            for n in range(5):
                actions.create_ticket(
                    actor=requester, via=Via.API, subject=f"Race {n}", requester=requester, body_text="x",
                    routed_team=Team.objects.get(pk=team.pk),
                )  # fmt: skip
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    counts = Counter(Ticket.objects.filter(team=team).values_list("assignee_id", flat=True))
    assert sum(counts.values()) == 40
    assert None not in counts
    assert max(counts.values()) - min(counts.values()) <= 1
