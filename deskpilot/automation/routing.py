"""Which agent gets the next ticket: the pure choice, over plain values (no Django).

The database glue (locks, loading agents and loads, assigning through the ticket actions) is in
``routing_service``; this module only decides, so the rules can be property-tested and simulated
over thousands of arrivals in milliseconds.

The rules, per mode:

- Only *eligible* agents get tickets: online, and under their capacity when they have one
  (capacity counts open work in normal-priority tickets: an agent whose load is below it can
  take one more ticket, whatever its priority; no capacity, no limit).
- round_robin: the eligible agent whose last ticket from this team is the oldest (never: first;
  then by id). While the set of eligible agents stays the same this is a strict rotation; and
  whatever others do, the agents available throughout take strict turns among themselves, so
  their counts of tickets differ by at most one. An agent back from a break gets the next ticket,
  then takes their turn.
- least_loaded: the eligible agent with the smallest load (open tickets weighted by priority);
  ties go to the one who waited longest for a ticket, so equal agents take turns.
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
from typing import Any

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
    no limit; ``last_routed`` orders their last ticket from this team among the others' (any
    increasing value: a time, a counter; None: never)."""

    id: int
    availability: str = ONLINE
    load: int = 0
    capacity: int | None = None
    skills: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)
    last_routed: Any = None

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


def _turn(agent: Agent) -> tuple[bool, Any, int]:
    """Turn order: never routed first, then the longest since their last ticket, then by id."""
    return (agent.last_routed is not None, agent.last_routed or 0, agent.id)


def round_robin(agents: Iterable[Agent]) -> Agent | None:
    eligible = [a for a in agents if a.eligible]
    return min(eligible, key=_turn) if eligible else None


def least_loaded(agents: Iterable[Agent]) -> Agent | None:
    eligible = [a for a in agents if a.eligible]
    return min(eligible, key=lambda a: (a.load, _turn(a))) if eligible else None


def meetable(agents: Sequence[Agent], needs: Needs) -> Needs:
    """The needs some member of the team (available or not) can meet; the rest are ignored."""
    skills = frozenset().union(*(a.skills for a in agents)) if agents else frozenset()
    languages = frozenset().union(*(a.languages for a in agents)) if agents else frozenset()
    language = needs.language if needs.language in languages else None
    return Needs(language=language, tags=needs.tags & skills)


def _match(agent: Agent, needs: Needs) -> tuple[bool, int]:
    """How well an agent meets the needs: speaks the language, and how many skills they have."""
    return (needs.language is None or needs.language in agent.languages, len(needs.tags & agent.skills))


def skills_based(agents: Sequence[Agent], needs: Needs, *, fallback: bool = True) -> Agent | None:
    wanted = meetable(agents, needs)
    eligible = [a for a in agents if a.eligible]
    if not eligible:
        return None
    full = (True, len(wanted.tags))
    best = max(_match(a, wanted) for a in eligible)
    if best != full and not fallback:
        return None
    return least_loaded([a for a in eligible if _match(a, wanted) == best])


def choose(
    mode: str,
    agents: Sequence[Agent],
    *,
    needs: Needs | None = None,
    fallback: bool = True,
) -> Agent | None:
    """The agent who gets the next ticket of a team in ``mode``, or None: it waits in the queue."""
    if mode == ROUND_ROBIN:
        return round_robin(agents)
    if mode == LEAST_LOADED:
        return least_loaded(agents)
    if mode == SKILLS:
        return skills_based(agents, needs or Needs(), fallback=fallback)
    if mode == MANUAL:
        return None
    raise ValueError(f"unknown routing mode {mode!r}")


def spread(loads: Iterable[int]) -> int:
    """Busiest minus idlest: the fairness measure of the simulation tests."""
    values = list(loads)
    return max(values) - min(values) if values else 0
