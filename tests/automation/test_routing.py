"""The pure routing choice (automation.routing): properties over any agents, and the fairness
simulation: 10,000 arrivals with tickets solved over time and agents going away and coming back.

Fairness, as measured here:

- Round-robin: among the agents available throughout, the numbers of tickets differ by at most 1
  over the whole run; and within every stretch in which the set of available agents stays the
  same, all of them are within 1 of each other.
- Least-loaded: every ticket goes to an available agent with the smallest open load; with at most
  one solve between arrivals, the spread of open tickets between the busiest and the idlest
  available agent stays at most 1 after every arrival; when an agent comes back with less work,
  no assignment ever widens the spread (each one narrows the gap until it is 1 again).
- Everyone: no ticket goes to an unavailable agent; tickets wait in the queue when nobody is
  available and are assigned as soon as someone is.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.automation import routing
from deskpilot.automation.routing import Agent, Needs

AVAILABILITIES = ("online", "away", "offline")
SKILLS = ("billing", "hardware", "api")
LANGUAGES = ("en", "de", "fr")

agent_lists = st.lists(
    st.builds(
        Agent,
        id=st.integers(1, 60),
        availability=st.sampled_from(AVAILABILITIES),
        load=st.integers(0, 20),
        capacity=st.none() | st.integers(1, 20),
        skills=st.frozensets(st.sampled_from(SKILLS)),
        languages=st.frozensets(st.sampled_from(LANGUAGES), min_size=1),
        last_routed=st.none() | st.integers(1, 100),
    ),
    max_size=10,
    unique_by=lambda a: a.id,
)
needs_strategy = st.builds(
    Needs, language=st.none() | st.sampled_from(LANGUAGES), tags=st.frozensets(st.sampled_from((*SKILLS, "vip")))
)


# --- properties ----------------------------------------------------------------------------------


@given(agent_lists, needs_strategy, st.booleans(), st.sampled_from(routing.MODES))
def test_the_choice_is_always_an_eligible_agent(agents: list[Agent], needs: Needs, fallback: bool, mode: str) -> None:
    chosen = routing.choose(mode, agents, needs=needs, fallback=fallback)
    if chosen is not None:
        assert chosen in agents
        assert chosen.available
        assert chosen.has_room
    eligible = [a for a in agents if a.eligible]
    if mode == routing.MANUAL:
        assert chosen is None
    elif mode in (routing.ROUND_ROBIN, routing.LEAST_LOADED) or fallback:
        # Nobody waits while someone eligible is there.
        assert (chosen is None) == (not eligible)


@given(agent_lists)
def test_least_loaded_picks_a_smallest_load_and_among_equals_the_longest_waiting(agents: list[Agent]) -> None:
    chosen = routing.least_loaded(agents)
    eligible = [a for a in agents if a.eligible]
    if eligible:
        assert chosen is not None
        assert chosen.load == min(a.load for a in eligible)
        equals = [a for a in eligible if a.load == chosen.load]
        assert chosen == routing.round_robin(equals)


@given(agent_lists)
def test_round_robin_gives_the_ticket_to_whoever_waited_longest(agents: list[Agent]) -> None:
    chosen = routing.round_robin(agents)
    eligible = [a for a in agents if a.eligible]
    if not eligible:
        assert chosen is None
        return
    assert chosen is not None
    never = sorted(a.id for a in eligible if a.last_routed is None)
    if never:
        assert chosen.id == never[0]
    else:
        assert chosen.last_routed == min(a.last_routed for a in eligible)


@given(st.lists(st.none() | st.integers(1, 50), min_size=1, max_size=12), st.integers(0, 200))
def test_round_robin_over_a_fixed_team_keeps_counts_within_one(turns: list[int | None], arrivals: int) -> None:
    agents = {i: Agent(id=i, last_routed=turn) for i, turn in enumerate(turns, start=1)}
    counts = Counter(dict.fromkeys(agents, 0))
    turn = 100
    for _ in range(arrivals):
        chosen = routing.round_robin(list(agents.values()))
        assert chosen is not None
        counts[chosen.id] += 1
        turn += 1
        agents[chosen.id] = Agent(id=chosen.id, last_routed=turn)
    assert routing.spread(counts.values()) <= 1


@given(agent_lists, needs_strategy)
def test_skills_prefer_an_agent_who_meets_every_need(agents: list[Agent], needs: Needs) -> None:
    wanted = routing.meetable(agents, needs)
    full = [
        a
        for a in agents
        if a.eligible and wanted.tags <= a.skills and (wanted.language is None or wanted.language in a.languages)
    ]
    strict = routing.skills_based(agents, needs, fallback=False)
    loose = routing.skills_based(agents, needs, fallback=True)
    if full:
        assert strict in full
        assert loose in full
        assert strict is not None
        assert strict.load == min(a.load for a in full)
    else:
        assert strict is None


def test_a_need_nobody_in_the_team_can_meet_is_ignored() -> None:
    agents = [Agent(id=1, languages=frozenset({"en"})), Agent(id=2, languages=frozenset({"de"}), skills=frozenset())]
    assert routing.meetable(agents, Needs(language="ja", tags=frozenset({"vip"}))) == Needs()
    # Only someone away speaks German: a strict team waits for them; a lenient one does not.
    away = [Agent(id=1, languages=frozenset({"en"})), Agent(id=2, availability="away", languages=frozenset({"de"}))]
    assert routing.skills_based(away, Needs(language="de"), fallback=False) is None
    assert routing.skills_based(away, Needs(language="de"), fallback=True) == away[0]


def test_the_language_counts_before_the_skills_in_a_fallback() -> None:
    speaks = Agent(id=1, languages=frozenset({"de"}))
    skilled = Agent(id=2, languages=frozenset({"en"}), skills=frozenset({"billing"}))
    missing = Agent(id=3, availability="offline", languages=frozenset({"de"}), skills=frozenset({"billing"}))
    chosen = routing.skills_based([speaks, skilled, missing], Needs("de", frozenset({"billing"})))
    assert chosen == speaks


def test_capacity_is_a_ceiling_on_open_work() -> None:
    full = Agent(id=1, load=5, capacity=5)
    room = Agent(id=2, load=9, capacity=10)
    assert not full.eligible
    assert room.eligible
    assert routing.least_loaded([full, room]) == room
    assert routing.round_robin([full]) is None


def test_weights_default_per_priority_and_weigh_the_load() -> None:
    assert routing.weights_with_defaults({"urgent": 5}) == {"low": 1, "normal": 1, "high": 2, "urgent": 5}
    assert routing.weighted_load({"normal": 3, "urgent": 1}) == 6
    assert routing.weighted_load({"normal": 3, "urgent": 1}, {"urgent": 10}) == 13


def test_an_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown routing mode"):
        routing.choose("lottery", [Agent(id=1)])


# --- the simulation ------------------------------------------------------------------------------


@dataclass
class Desk:
    """A team as routing sees it, played forward: agents' availability, open tickets and the
    queue. Assignment uses routing.choose exactly as routing_service does."""

    mode: str
    size: int
    rng: random.Random
    availability: dict[int, str] = field(default_factory=dict)
    open: dict[int, list[int]] = field(default_factory=dict)  # agent -> open ticket ids
    queue: list[int] = field(default_factory=list)
    last_turn: dict[int, int] = field(default_factory=dict)
    turns: int = 0
    assigned: Counter[int] = field(default_factory=Counter)
    epoch: Counter[int] = field(default_factory=Counter)
    epoch_spreads: list[int] = field(default_factory=list)
    spreads_after_arrival: list[int] = field(default_factory=list)
    widened: int = 0
    queued_total: int = 0
    longest_queue: int = 0
    next_ticket: int = 0

    def __post_init__(self) -> None:
        for i in range(self.size):
            agent_id = 10 + i * 7
            self.availability[agent_id] = "online"
            self.open[agent_id] = []

    def agents(self) -> list[Agent]:
        return [
            Agent(id=i, availability=a, load=len(self.open[i]), last_routed=self.last_turn.get(i))
            for i, a in self.availability.items()
        ]

    def online(self) -> list[int]:
        return [i for i, a in self.availability.items() if a == "online"]

    def load_spread(self) -> int:
        return routing.spread(len(self.open[i]) for i in self.online())

    def assign(self, ticket: int) -> bool:
        chosen = routing.choose(self.mode, self.agents())
        if chosen is None:
            return False
        # No ticket goes to an unavailable agent, and least-loaded takes a smallest load.
        assert self.availability[chosen.id] == "online"
        if self.mode == routing.LEAST_LOADED:
            assert len(self.open[chosen.id]) == min(len(self.open[i]) for i in self.online())
        self.open[chosen.id].append(ticket)
        self.turns += 1
        self.last_turn[chosen.id] = self.turns
        self.assigned[chosen.id] += 1
        self.epoch[chosen.id] += 1
        return True

    def arrive(self) -> None:
        self.next_ticket += 1
        before = self.load_spread()
        if self.assign(self.next_ticket):
            after = self.load_spread()
            self.spreads_after_arrival.append(after)
            if after > max(1, before):
                self.widened += 1
        else:
            self.queue.append(self.next_ticket)
            self.queued_total += 1
            self.longest_queue = max(self.longest_queue, len(self.queue))
            assert not self.online(), "a ticket waited while someone was available"

    def solve_one(self) -> None:
        """An available agent solves one of their tickets: each open ticket of the agents at
        work is as likely as any other to be the one (away agents do not work)."""
        at_work = [(i, n) for i in self.online() for n in range(len(self.open[i]))]
        if at_work:
            agent, index = self.rng.choice(at_work)
            self.open[agent].pop(index)

    def set_availability(self, availability: str, *agents: int) -> None:
        """Some agents change availability at once (one, or a shift starting together)."""
        if all(self.availability[a] == availability for a in agents):
            return
        self._close_epoch()
        for agent in agents:
            self.availability[agent] = availability
        if availability == "online":
            # routing.assign_queued: the queue drains as soon as someone is available.
            while self.queue and self.assign(self.queue[0]):
                self.queue.pop(0)
            assert not self.queue

    def _close_epoch(self) -> None:
        if self.epoch:
            self.epoch_spreads.append(routing.spread(self.epoch.get(i, 0) for i in self.online()))
        self.epoch = Counter()


def simulate(mode: str, *, seed: int, arrivals: int = 10_000, churn: float = 0.02, solve: float = 0.9) -> Desk:
    """``arrivals`` tickets; after each, one open ticket is solved with probability ``solve`` and,
    with probability ``churn``, one of the agents who come and go changes availability. The
    other half (the steady agents) stay online, except for a break everyone takes together every
    2,000 arrivals, during which tickets queue."""
    rng = random.Random(seed)
    desk = Desk(mode=mode, size=8, rng=rng)
    ids = sorted(desk.availability)
    steady, coming_and_going = ids[::2], ids[1::2]
    for n in range(arrivals):
        # Every 2,000 arrivals everybody is away for a while: the queue must hold the tickets.
        if n % 2000 == 1000:
            desk.set_availability("away", *ids)
        if n % 2000 == 1050:
            desk.set_availability("online", *steady)
        desk.arrive()
        if rng.random() < solve:
            desk.solve_one()
        if rng.random() < churn:
            agent = rng.choice(coming_and_going)
            desk.set_availability(rng.choice(AVAILABILITIES), agent)
    desk._close_epoch()
    desk.steady = steady  # type: ignore[attr-defined]
    return desk


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_round_robin_is_fair_over_ten_thousand_arrivals(seed: int) -> None:
    desk = simulate(routing.ROUND_ROBIN, seed=seed)
    steady = desk.steady  # type: ignore[attr-defined]
    assert routing.spread(desk.assigned[i] for i in steady) <= 1
    assert max(desk.epoch_spreads) <= 1
    assert desk.queued_total > 0
    assert not desk.queue
    assert sum(desk.assigned.values()) == 10_000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_least_loaded_is_fair_over_ten_thousand_arrivals(seed: int) -> None:
    desk = simulate(routing.LEAST_LOADED, seed=seed)
    # No assignment ever widens the gap between the busiest and the idlest available agent.
    assert desk.widened == 0
    assert desk.queued_total > 0
    assert not desk.queue
    assert sum(desk.assigned.values()) == 10_000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_least_loaded_keeps_the_spread_within_one_when_nobody_comes_or_goes(seed: int) -> None:
    desk = Desk(mode=routing.LEAST_LOADED, size=8, rng=random.Random(seed))
    for _ in range(10_000):
        desk.arrive()
        if desk.rng.random() < 0.95:
            desk.solve_one()
    assert max(desk.spreads_after_arrival) <= 1


def test_the_simulation_figures() -> None:
    """The figures reported for the routing work (printed with pytest -s)."""
    rr = simulate(routing.ROUND_ROBIN, seed=7)
    ll = simulate(routing.LEAST_LOADED, seed=7)
    steady = rr.steady  # type: ignore[attr-defined]
    within_one = sum(1 for s in ll.spreads_after_arrival if s <= 1) / len(ll.spreads_after_arrival)
    print(
        f"\nround-robin: steady agents' counts {sorted(rr.assigned[i] for i in steady)}, "
        f"worst stretch spread {max(rr.epoch_spreads)}, {len(rr.epoch_spreads)} stretches, "
        f"queued {rr.queued_total}, longest queue {rr.longest_queue}"
        f"\nleast-loaded: spread <= 1 after {within_one:.1%} of arrivals, max {max(ll.spreads_after_arrival)}, "
        f"widened {ll.widened}, queued {ll.queued_total}, longest queue {ll.longest_queue}"
    )
    assert within_one > 0.5


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([routing.ROUND_ROBIN, routing.LEAST_LOADED]))
def test_no_ticket_waits_while_someone_is_available_in_any_run(seed: int, mode: str) -> None:
    desk = simulate(mode, seed=seed, arrivals=600, churn=0.2, solve=0.5)
    assert not desk.queue or not desk.online()
