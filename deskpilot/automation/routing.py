"""Which agent gets the next ticket: the pure choice, over plain values (no Django).

The database glue (locks, loading agents and loads, assigning through the ticket actions) is in
``routing_service``; this module only decides, so the rules can be property-tested and simulated
over thousands of arrivals in milliseconds.

The rules, per mode:

- Only *eligible* agents get tickets: online, and under their capacity when they have one
  (capacity counts open work in normal-priority tickets: an agent whose load is below it can
  take one more ticket, whatever its priority; no capacity, no limit).
- round_robin: the eligible agents in id order, starting after the cursor (the agent who got the
  last ticket) and wrapping around. While the set of eligible agents stays the same, their counts
  of tickets differ by at most one.
- least_loaded: the eligible agent with the smallest load (open tickets weighted by priority);
  ties go round-robin from the cursor, so equal agents take turns.
- skills: the eligible agents who speak the ticket's language and have every skill the ticket's
  tags name, least loaded first. A need that no member of the team can meet (a language nobody
  speaks, a tag that is nobody's skill) is ignored: it cannot be what the ticket waits for. When
  nobody eligible meets all the needs, the ticket goes to the closest match (language first, then
  the most skills) if the team allows the fallback; otherwise it waits in the queue.
- manual: nobody; tickets wait for a person to assign them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MANUAL = "manual"
ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"
SKILLS = "skills"
MODES = (MANUAL, ROUND_ROBIN, LEAST_LOADED, SKILLS)
# Modes that need each agent's load (the others rank by turn only).
LOAD_MODES = frozenset({LEAST_LOADED, SKILLS})

ONLINE = "online"

# The weight of an open ticket by priority: a normal ticket is one unit of work.
PRIORITIES = ("low", "normal", "high", "urgent")
DEFAULT_WEIGHTS: Mapping[str, int] = {"low": 1, "normal": 1, "high": 2, "urgent": 3}
WEIGHT_MAX = 100


@dataclass(frozen=True)
class Agent:
    """An agent as routing sees them. ``load`` is the weighted open work; ``capacity`` None is
    no limit."""

    id: int
    availability: str = ONLINE
    load: int = 0
    capacity: int | None = None
    skills: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)

    @property
    def available(self) -> bool:
        return self.availability == ONLINE

    @property
    def has_room(self) -> bool:
        return self.capacity is None or self.load < self.capacity

    @property
    def eligible(self) -> bool:
        return self.available and self.has_room


@dataclass(frozen=True)
class Needs:
    """What a ticket asks of its agent (skills mode): its language and its tags."""

    language: str | None = None
    tags: frozenset[str] = field(default_factory=frozenset)


def weights_with_defaults(weights: Mapping[str, int] | None) -> dict[str, int]:
    """The team's weights, with the default for each priority it does not set."""
    return {p: int((weights or {}).get(p, DEFAULT_WEIGHTS[p])) for p in PRIORITIES}


def weighted_load(counts: Mapping[str, int], weights: Mapping[str, int] | None = None) -> int:
    """The load of open tickets counted by priority (``{"high": 2, "normal": 3}``)."""
    table = weights_with_defaults(weights)
    return sum(table.get(priority, 1) * n for priority, n in counts.items())


def _after_cursor(agents: Sequence[Agent], cursor: int | None) -> list[Agent]:
    """The agents in turn order: by id, starting after ``cursor`` and wrapping around."""
    ordered = sorted(agents, key=lambda a: a.id)
    if cursor is None:
        return ordered
    later = [a for a in ordered if a.id > cursor]
    return later + [a for a in ordered if a.id <= cursor]


def round_robin(agents: Iterable[Agent], cursor: int | None) -> Agent | None:
    turn = _after_cursor([a for a in agents if a.eligible], cursor)
    return turn[0] if turn else None


def least_loaded(agents: Iterable[Agent], cursor: int | None) -> Agent | None:
    turn = _after_cursor([a for a in agents if a.eligible], cursor)
    # min() keeps the first of equals: the turn order breaks ties.
    return min(turn, key=lambda a: a.load) if turn else None


def meetable(agents: Sequence[Agent], needs: Needs) -> Needs:
    """The needs some member of the team (available or not) can meet; the rest are ignored."""
    skills = frozenset().union(*(a.skills for a in agents)) if agents else frozenset()
    languages = frozenset().union(*(a.languages for a in agents)) if agents else frozenset()
    language = needs.language if needs.language in languages else None
    return Needs(language=language, tags=needs.tags & skills)


def _match(agent: Agent, needs: Needs) -> tuple[bool, int]:
    """How well an agent meets the needs: speaks the language, and how many skills they have."""
    return (needs.language is None or needs.language in agent.languages, len(needs.tags & agent.skills))


def skills_based(agents: Sequence[Agent], needs: Needs, cursor: int | None, *, fallback: bool = True) -> Agent | None:
    wanted = meetable(agents, needs)
    eligible = [a for a in agents if a.eligible]
    if not eligible:
        return None
    full = (True, len(wanted.tags))
    best = max(_match(a, wanted) for a in eligible)
    if best != full and not fallback:
        return None
    return least_loaded([a for a in eligible if _match(a, wanted) == best], cursor)


def choose(
    mode: str,
    agents: Sequence[Agent],
    *,
    cursor: int | None = None,
    needs: Needs | None = None,
    fallback: bool = True,
) -> Agent | None:
    """The agent who gets the next ticket of a team in ``mode``, or None: it waits in the queue."""
    if mode == ROUND_ROBIN:
        return round_robin(agents, cursor)
    if mode == LEAST_LOADED:
        return least_loaded(agents, cursor)
    if mode == SKILLS:
        return skills_based(agents, needs or Needs(), cursor, fallback=fallback)
    if mode == MANUAL:
        return None
    raise ValueError(f"unknown routing mode {mode!r}")


def spread(loads: Iterable[int]) -> int:
    """Busiest minus idlest: the fairness measure of the simulation tests."""
    values = list(loads)
    return max(values) - min(values) if values else 0
