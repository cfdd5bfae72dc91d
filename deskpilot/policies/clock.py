"""SLA clocks: from a ticket's history, its policy targets and a calendar to the target instances.

Pure computation over plain values (no Django), re-run on every ticket event; a later piece turns
TicketEvents into ``Fact``s and stores ``next_breach`` on the ticket. Semantics: DOMAIN.md, "SLA
targets (the seven metrics)".

Facts (``Fact.kind``)
---------------------
- ``created``: the first fact, with ``by_customer``, ``status``, ``priority`` and ``team``. It is not a
  message: when the creator also wrote a public message, the translator adds a ``customer_message``
  (customer-created) or ``public_reply_by_agent`` (agent-created) fact at the same instant.
- ``status`` (``status``), ``priority`` (``priority``), ``team`` (``team``, id or None): a field change.
- ``public_reply_by_agent``: a public message by a user with an agent role.
- ``customer_message``: a public message from the requester or a CC'd customer.

The clock infers nothing: a customer reply that moves a pending ticket back to open arrives as a
``customer_message`` fact *and* a ``status`` fact. Facts must be in time order; facts at the same
instant are applied in list order, and breaches are only checked between instants (so a reply at
the very second a target falls due fulfils it in time).

Instances per metric
--------------------
- first_reply: one instance, from ``created`` when ``by_customer``, otherwise from the first
  ``customer_message``; fulfilled by the first public agent reply after it (or by a solve, below).
- next_reply: a ``customer_message`` starts an instance when none is running and first_reply is
  already fulfilled (an earlier message is covered by first_reply, a later one by the running
  instance, which thereby measures from the oldest unanswered message); the next public agent reply
  fulfils it.
- periodic_update, pausable_update: each public agent reply fulfils the running instance and starts
  a new one; pausable_update is paused while pending.
- requester_wait (paused while pending), agent_work (paused while pending or on_hold),
  total_resolution (never paused): one instance each from ``created``, fulfilled when the ticket is
  solved (or closed).

Solve and reopen (Zendesk's behaviour): solving fulfils every running instance (a choice for
first_reply too: a ticket solved without any public reply owes no first reply). The reply-cycle
metrics (first_reply, next_reply, periodic_update, pausable_update) stay fulfilled; after a reopen
the next customer message or public agent reply starts new ones. requester_wait, agent_work and
total_resolution *resume* on a reopen (a transition out of solved): the same instance becomes
active (or paused) again, ``fulfilled_at`` is cleared until the next solve, and the time spent
solved is counted as paused time (nobody waits on a solved ticket), also for total_resolution,
whose "never paused" means not paused by pending or on_hold. A breach recorded before stays.

Targets and priority changes
----------------------------
The target of an open instance is the one the priority in force gives it; a priority change
re-derives it from the instance's start (``due`` = start + new target + paused time). A finished
instance keeps the target it had when it was fulfilled. A breach is recorded at the instant the
elapsed time reached the target in force at that instant and is never back-dated: when a priority
change shortens a target below the time already elapsed, the breach is recorded at the change; when
it lengthens a target already breached, the breach stays. An instance whose metric has no target
under its priority is not reported, unless it was breached earlier: the breach stays on record, with
the target it breached.

Units and ``due``
-----------------
Times are whole seconds (microseconds are dropped). ``elapsed`` and ``paused`` are in calendar
seconds for a calendar target and business seconds for a business target; a business target that
starts outside business hours starts counting at the next open instant. ``due`` is the instant the
target is breached if nothing happens: for an open instance not yet breached, ``now`` plus the time
still to go (calendar: start + target + paused so far; business: ``add_business_seconds``); for a
paused instance that is the due as if it resumed now. For a breached instance ``due`` is
``breached_at``; for a fulfilled one in time, the due it had when it was fulfilled. All datetimes
returned are in UTC. One ``Schedule`` serves the whole evaluation: pass the calendar in force now
(DOMAIN.md measures a span on the calendar in force when it ends).

Warnings
--------
With ``Policy.warning_percent`` set, an instance warns when its elapsed time reaches that share of
its target (rounded up to a whole second), found like a breach (never back-dated; a priority change
that shortens the target past the threshold warns at the change). ``warning_at`` is that instant when
it has passed (``warned``), or, for an active instance not yet there, the instant it will come if
nothing happens; None otherwise (paused before the threshold, fulfilled first, or no threshold).

Group ownership
---------------
An operational-level target per team (``Policy.group_ownership``, keyed by team id, whatever the
priority): an instance starts when the ticket is created with a team or moves to one, and is
fulfilled when it moves to another team (or to none) or is solved; a reopen starts a new instance for
the team that owns the ticket then. Never paused. ``TargetInstance.team`` names the team.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from deskpilot.policies.business_time import Schedule, add_business_seconds_at, business_seconds_between

__all__ = [
    "METRICS",
    "STATES",
    "Fact",
    "Policy",
    "Target",
    "TargetInstance",
    "evaluate",
    "next_breach",
]

METRICS = (
    "first_reply",
    "next_reply",
    "periodic_update",
    "pausable_update",
    "requester_wait",
    "agent_work",
    "total_resolution",
)
STATES = ("active", "paused", "fulfilled", "breached-active", "breached-paused", "breached-fulfilled")
FACT_KINDS = ("created", "status", "priority", "team", "public_reply_by_agent", "customer_message")
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")

_PAUSED_IN: dict[str, frozenset[str]] = {
    "pausable_update": frozenset({"pending"}),
    "requester_wait": frozenset({"pending"}),
    "agent_work": frozenset({"pending", "on_hold"}),
}
_NEVER_PAUSED: frozenset[str] = frozenset()
_RESUMING = frozenset({"requester_wait", "agent_work", "total_resolution"})
_DONE = frozenset({"solved", "closed"})


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing that happened to the ticket (see the module docstring for the kinds)."""

    at: datetime
    kind: str
    status: str | None = None
    priority: str | None = None
    team: int | None = None
    by_customer: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    metric: str
    seconds: int
    business: bool = False

    def __post_init__(self) -> None:
        if self.metric not in METRICS and self.metric != "group_ownership":
            raise ValueError(f"unknown metric {self.metric!r}")
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int) or self.seconds <= 0:
            raise ValueError(f"target seconds must be a positive whole number, not {self.seconds!r}")


@dataclass(frozen=True, slots=True)
class Policy:
    """Per priority, the targets (at most one per metric)."""

    targets: Mapping[str, tuple[Target, ...]] = field(default_factory=dict)
    group_ownership: Mapping[int, Target] = field(default_factory=dict)
    # A target warns when this share (1-99 %) of it has elapsed; None: no warnings.
    warning_percent: int | None = None

    def __post_init__(self) -> None:
        pct = self.warning_percent
        if pct is not None and (isinstance(pct, bool) or not isinstance(pct, int) or not 1 <= pct <= 99):
            raise ValueError(f"warning_percent must be a whole number from 1 to 99, not {pct!r}")

    def warn_after(self, target: Target) -> int | None:
        """Elapsed seconds at which an instance with this target warns."""
        if self.warning_percent is None:
            return None
        return max(1, -(-target.seconds * self.warning_percent // 100))

    def target(self, priority: str | None, metric: str) -> Target | None:
        for target in self.targets.get(priority or "", ()):
            if target.metric == metric:
                return target
        return None


@dataclass(frozen=True, slots=True)
class TargetInstance:
    """One target instance as it stands. Its instants are kept in the clock's own unit, Unix seconds
    (``*_ts``), which is what the SLA bookkeeping compares and keys on; the aware UTC datetimes
    (``start``, ``due``, ...) are made only when read, for pages and events."""

    metric: str
    start_ts: int
    due_ts: int
    elapsed: int
    paused: int
    fulfilled_ts: int | None
    breached_ts: int | None
    state: str
    target: Target
    team: int | None = None
    warning_ts: int | None = None
    warned: bool = False

    @property
    def start(self) -> datetime:
        return _dt(self.start_ts)

    @property
    def due(self) -> datetime:
        return _dt(self.due_ts)

    @property
    def fulfilled_at(self) -> datetime | None:
        return None if self.fulfilled_ts is None else _dt(self.fulfilled_ts)

    @property
    def breached_at(self) -> datetime | None:
        return None if self.breached_ts is None else _dt(self.breached_ts)

    @property
    def warning_at(self) -> datetime | None:
        return None if self.warning_ts is None else _dt(self.warning_ts)


class _Run:
    """A target instance being computed. Elapsed and paused time are kept in both units (calendar,
    and business when there is a schedule) so that a priority change can switch the unit."""

    __slots__ = (
        "breached_at",
        "el_bus",
        "el_cal",
        "fulfilled_at",
        "metric",
        "pa_bus",
        "pa_cal",
        "start",
        "target",
        "team",
        "warned_at",
    )

    def __init__(self, metric: str, start: int, target: Target | None) -> None:
        self.metric = metric
        self.start = start
        self.team: int | None = None
        self.target = target
        self.el_cal = self.el_bus = self.pa_cal = self.pa_bus = 0
        self.fulfilled_at: int | None = None
        self.breached_at: int | None = None
        self.warned_at: int | None = None

    def elapsed(self) -> int:
        return self.el_bus if self.target is not None and self.target.business else self.el_cal

    def paused(self) -> int:
        return self.pa_bus if self.target is not None and self.target.business else self.pa_cal


def _dt(u: int) -> datetime:
    return datetime.fromtimestamp(u, UTC)


def _epoch(t: datetime, name: str) -> int:
    if t.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not naive {t.isoformat()}")
    return math.floor(t.timestamp())


class _Clock:
    def __init__(self, policy: Policy, schedule: Schedule | None) -> None:
        self.policy = policy
        self.schedule = schedule
        self.runs: list[_Run] = []
        self.open: dict[str, _Run] = {}  # the running (not fulfilled) instance per metric
        self.resumable: dict[str, _Run] = {}  # requester_wait etc. fulfilled by a solve
        self.status = "new"
        self.priority: str | None = None
        self.team: int | None = None
        self.first_reply_done = False

    # -- time ------------------------------------------------------------------------------------

    def _business(self, a: int, b: int) -> int:
        assert self.schedule is not None
        return business_seconds_between(self.schedule, a, b)

    def _add(self, target: Target, a: int, seconds: int) -> int:
        """The instant ``seconds`` of the target's kind of time after ``a``."""
        if not target.business:
            return a + seconds
        if self.schedule is None:
            raise ValueError(f"the {target.metric} target is in business hours but no schedule was given")
        return add_business_seconds_at(self.schedule, a, seconds)

    def _running(self, run: _Run) -> bool:
        return self.status not in _PAUSED_IN.get(run.metric, _NEVER_PAUSED)

    def check(self, t: int) -> None:
        """Record a breach at ``t`` for an open instance whose elapsed time already reached its target
        (after a priority change shortened it)."""
        for run in self.open.values():
            if run.target is None:
                continue
            if run.warned_at is None:
                warn = self.policy.warn_after(run.target)
                if warn is not None and run.elapsed() >= warn:
                    run.warned_at = t
            if run.breached_at is None and run.elapsed() >= run.target.seconds:
                run.breached_at = t

    def advance(self, a: int, b: int, inclusive: bool) -> None:
        """Let time run from ``a`` to ``b``: count elapsed or paused time and find breaches in
        ``[a, b)`` (``[a, b]`` when ``inclusive``, for the evaluation instant)."""
        if b <= a:
            return
        # Business time is counted whenever there is a schedule: a priority change may switch a
        # target from calendar to business hours.
        bus = self._business(a, b) if self.schedule is not None and self.open else 0
        for run in self.open.values():
            if not self._running(run):
                run.pa_cal += b - a
                run.pa_bus += bus
                continue
            target = run.target
            if target is not None:
                # The exact instant is only worked out when the step can reach it: the time the
                # step adds (calendar or business) is at least what is left. A business step may
                # reach it exactly and still end later (closed hours after it), hence ">=".
                step = bus if target.business else b - a
                elapsed = run.elapsed()
                if run.warned_at is None:
                    warn = self.policy.warn_after(target)
                    if warn is not None and step >= warn - elapsed:
                        when = self._add(target, a, max(0, warn - elapsed))
                        if when < b or (inclusive and when == b):
                            run.warned_at = when
                if run.breached_at is None and step >= target.seconds - elapsed:
                    due = self._add(target, a, target.seconds - elapsed)
                    if due < b or (inclusive and due == b):
                        run.breached_at = due
            run.el_cal += b - a
            run.el_bus += bus

    # -- facts -----------------------------------------------------------------------------------

    def target_for(self, metric: str, team: int | None) -> Target | None:
        if metric == "group_ownership":
            return None if team is None else self.policy.group_ownership.get(team)
        return self.policy.target(self.priority, metric)

    def start(self, metric: str, t: int) -> None:
        run = _Run(metric, t, self.target_for(metric, self.team))
        run.team = self.team if metric == "group_ownership" else None
        self.runs.append(run)
        self.open[metric] = run

    def retarget(self, run: _Run) -> None:
        """The target in force for an open instance (its priority's, or its team's for group
        ownership); one already breached keeps the target it breached when there is none now, so the
        breach stays."""
        target = self.target_for(run.metric, run.team)
        if target is not None or run.breached_at is None:
            run.target = target

    def fulfil(self, metric: str, t: int) -> None:
        run = self.open.pop(metric, None)
        if run is not None:
            run.fulfilled_at = t
            if metric in _RESUMING:
                self.resumable[metric] = run

    def apply(self, fact: Fact, t: int) -> None:
        kind = fact.kind
        if kind == "status":
            if fact.status not in STATUSES:
                raise ValueError(f"unknown status {fact.status!r}")
            self.set_status(fact.status, t)
        elif kind == "priority":
            self.priority = fact.priority
            for run in self.open.values():
                self.retarget(run)
        elif kind == "team":
            if fact.team != self.team:
                self.fulfil("group_ownership", t)
                self.team = fact.team
                if self.team is not None and self.status not in _DONE:
                    self.start("group_ownership", t)
        elif kind == "public_reply_by_agent":
            if "first_reply" in self.open:
                self.fulfil("first_reply", t)
                self.first_reply_done = True
            self.fulfil("next_reply", t)
            if self.status not in _DONE:
                for metric in ("periodic_update", "pausable_update"):
                    self.fulfil(metric, t)
                    self.start(metric, t)
        elif kind == "customer_message":
            if not self.first_reply_done and not any(r.metric == "first_reply" for r in self.runs):
                self.start("first_reply", t)
            elif self.first_reply_done and "next_reply" not in self.open:
                self.start("next_reply", t)
        elif kind == "created":
            raise ValueError("a ticket has only one created fact, the first")
        else:
            raise ValueError(f"unknown fact kind {kind!r}")

    def set_status(self, status: str, t: int) -> None:
        was_done = self.status in _DONE
        self.status = status
        if status in _DONE and not was_done:
            for metric in list(self.open):
                self.fulfil(metric, t)
            # A first_reply fulfilled by the solve counts as done: later messages start next_reply.
            self.first_reply_done = any(r.metric == "first_reply" for r in self.runs)
        elif was_done and status not in _DONE:
            for metric, run in self.resumable.items():
                assert run.fulfilled_at is not None
                # Time spent solved counts as paused; the target in force now applies again.
                run.pa_cal += t - run.fulfilled_at
                if self.schedule is not None:
                    run.pa_bus += self._business(run.fulfilled_at, t)
                run.fulfilled_at = None
                self.retarget(run)
                self.open[metric] = run
            self.resumable.clear()
            if self.team is not None:
                self.start("group_ownership", t)

    def created(self, fact: Fact, t: int) -> None:
        self.status = fact.status or "new"
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        self.priority = fact.priority
        self.team = fact.team
        for metric in ("requester_wait", "agent_work", "total_resolution"):
            self.start(metric, t)
        if fact.by_customer:
            self.start("first_reply", t)
        if self.team is not None:
            self.start("group_ownership", t)
        if self.status in _DONE:
            for metric in list(self.open):
                self.fulfil(metric, t)

    # -- result ----------------------------------------------------------------------------------

    def result(self, now: int) -> list[TargetInstance]:
        out: list[TargetInstance] = []
        for run in self.runs:
            target = run.target
            if target is None:
                continue
            elapsed = run.elapsed()
            is_open = run.fulfilled_at is None
            if run.breached_at is not None:
                due = run.breached_at
            else:
                since = now if run.fulfilled_at is None else run.fulfilled_at
                due = self._add(target, since, max(0, target.seconds - elapsed))
            if not is_open:
                state = "fulfilled"
            elif self._running(run):
                state = "active"
            else:
                state = "paused"
            if run.breached_at is not None:
                state = "breached-" + state
            warning_at = run.warned_at
            if warning_at is None and state == "active":
                warn = self.policy.warn_after(target)
                if warn is not None:
                    warning_at = self._add(target, now, max(0, warn - elapsed))
            out.append(
                TargetInstance(
                    metric=run.metric,
                    start_ts=run.start,
                    due_ts=due,
                    elapsed=elapsed,
                    paused=run.paused(),
                    fulfilled_ts=run.fulfilled_at,
                    breached_ts=run.breached_at,
                    state=state,
                    target=target,
                    team=run.team,
                    warning_ts=warning_at,
                    warned=run.warned_at is not None,
                )
            )
        return out


def evaluate(facts: Sequence[Fact], policy: Policy, schedule: Schedule | None, now: datetime) -> list[TargetInstance]:
    """The target instances of a ticket with these facts (time-ordered, ``created`` first) as they
    stand at ``now`` (not before the last fact), in the order they started."""
    if not facts or facts[0].kind != "created":
        raise ValueError("the facts must start with the ticket's created fact")
    clock = _Clock(policy, schedule)
    cur = _epoch(facts[0].at, "facts[0].at")
    clock.created(facts[0], cur)
    for i, fact in enumerate(facts[1:], 1):
        at = fact.at
        if at.utcoffset() is None:
            raise ValueError(f"facts[{i}].at must be an aware datetime, not naive {at.isoformat()}")
        t = math.floor(at.timestamp())
        if t < cur:
            raise ValueError(f"facts[{i}] at {fact.at.isoformat()} is earlier than the fact before it")
        if t > cur:
            clock.check(cur)
            clock.advance(cur, t, inclusive=False)
            cur = t
        clock.apply(fact, t)
    end = _epoch(now, "now")
    if end < cur:
        raise ValueError(f"now {now.isoformat()} is earlier than the last fact")
    clock.check(cur)
    clock.advance(cur, end, inclusive=True)
    return clock.result(end)


def next_breach(instances: Sequence[TargetInstance]) -> datetime | None:
    """The earliest due among active instances not yet breached (paused ones cannot breach until
    they resume), or None."""
    dues = [i.due for i in instances if i.state == "active"]
    return min(dues) if dues else None
