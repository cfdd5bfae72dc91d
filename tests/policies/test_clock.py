"""SLA clocks (deskpilot.policies.clock): DOMAIN.md's semantics, and a second-stepping oracle."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.policies.business_time import Interval, Schedule
from deskpilot.policies.clock import Fact, Policy, Target, TargetInstance, evaluate, next_breach

H = 3600
DAY0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def at(hour: float, day: int = 0) -> datetime:
    return DAY0 + timedelta(days=day, seconds=round(hour * H))


def created(hour: float, *, by_customer: bool = True, priority: str = "normal", status: str = "new") -> Fact:
    return Fact(at(hour), "created", status=status, priority=priority, by_customer=by_customer)


def status(hour: float, value: str) -> Fact:
    return Fact(at(hour), "status", status=value)


def reply(hour: float) -> Fact:
    return Fact(at(hour), "public_reply_by_agent")


def message(hour: float) -> Fact:
    return Fact(at(hour), "customer_message")


def prio(hour: float, value: str) -> Fact:
    return Fact(at(hour), "priority", priority=value)


def policy(seconds: int = 100 * H, business: bool = False, **per_metric: int) -> Policy:
    """Every metric with ``seconds`` (overridable per metric) for priority normal."""
    metrics = [
        "first_reply",
        "next_reply",
        "periodic_update",
        "pausable_update",
        "requester_wait",
        "agent_work",
        "total_resolution",
    ]
    return Policy({"normal": tuple(Target(m, per_metric.get(m, seconds), business) for m in metrics)})


def only(instances: list[TargetInstance], metric: str) -> TargetInstance:
    found = [i for i in instances if i.metric == metric]
    assert len(found) == 1, found
    return found[0]


def all_of(instances: list[TargetInstance], metric: str) -> list[TargetInstance]:
    return [i for i in instances if i.metric == metric]


# -- the worked example of DOMAIN.md -------------------------------------------------------------

WORKED = [
    created(9),
    reply(10),
    status(10, "pending"),
    message(12),
    status(12, "open"),
    status(14, "solved"),
]


def test_worked_example() -> None:
    result = evaluate(WORKED, policy(), None, at(15))
    requester = only(result, "requester_wait")
    assert (requester.elapsed, requester.paused) == (3 * H, 2 * H)  # agent wait: 2 h in pending
    assert requester.state == "fulfilled"
    assert requester.fulfilled_at == at(14)
    total = only(result, "total_resolution")
    assert (total.elapsed, total.paused, total.fulfilled_at) == (5 * H, 0, at(14))
    first = only(result, "first_reply")
    assert (first.elapsed, first.fulfilled_at, first.state) == (1 * H, at(10), "fulfilled")
    agent = only(result, "agent_work")
    assert (agent.elapsed, agent.paused) == (3 * H, 2 * H)
    # The customer's message at 12:00 starts next_reply; solving at 14:00 fulfils it.
    nxt = only(result, "next_reply")
    assert (nxt.start, nxt.elapsed, nxt.fulfilled_at) == (at(12), 2 * H, at(14))
    assert next_breach(result) is None


def test_worked_example_mid_way_is_active_with_due() -> None:
    result = evaluate(WORKED[:5], policy(6 * H), None, at(13))
    requester = only(result, "requester_wait")
    assert requester.state == "active"
    assert (requester.elapsed, requester.paused) == (2 * H, 2 * H)
    assert requester.due == at(9 + 6 + 2)  # start + target + paused
    total = only(result, "total_resolution")
    assert total.due == at(15)
    nxt = only(result, "next_reply")
    assert nxt.due == at(18)
    assert next_breach(result) == at(15)


# -- pausing ---------------------------------------------------------------------------------------


def test_pending_pauses_requester_wait_agent_work_pausable_update_only() -> None:
    facts = [created(9), reply(9), status(10, "pending")]
    result = evaluate(facts, policy(), None, at(13))
    assert only(result, "requester_wait").state == "paused"
    assert only(result, "agent_work").state == "paused"
    assert only(result, "pausable_update").state == "paused"
    assert only(result, "periodic_update").state == "active"
    assert only(result, "total_resolution").state == "active"
    assert only(result, "requester_wait").elapsed == 1 * H
    assert only(result, "requester_wait").paused == 3 * H
    assert only(result, "pausable_update").elapsed == 1 * H
    assert only(result, "periodic_update").elapsed == 4 * H
    # A paused instance's due is as if it resumed now.
    assert only(result, "requester_wait").due == at(13 + 99)


def test_on_hold_pauses_agent_work_only() -> None:
    facts = [created(9), reply(9), status(10, "on_hold"), status(12, "open")]
    result = evaluate(facts, policy(), None, at(13))
    agent = only(result, "agent_work")
    assert (agent.state, agent.elapsed, agent.paused) == ("active", 2 * H, 2 * H)
    for metric in ("requester_wait", "pausable_update", "periodic_update", "total_resolution"):
        assert only(result, metric).paused == 0, metric
    assert only(result, "requester_wait").elapsed == 4 * H
    assert agent.due == at(9 + 100 + 2)


def test_unpause_resumes_counting_where_it_stopped() -> None:
    facts = [created(9), status(10, "pending"), status(11, "open"), status(12, "pending"), status(14, "open")]
    result = evaluate(facts, policy(), None, at(15))
    requester = only(result, "requester_wait")
    assert (requester.elapsed, requester.paused, requester.state) == (3 * H, 3 * H, "active")


# -- reply cycles ----------------------------------------------------------------------------------


def test_next_reply_measures_from_oldest_unanswered_message() -> None:
    facts = [created(9), reply(10), message(11), message(12), reply(14), message(15)]
    result = evaluate(facts, policy(), None, at(16))
    first, second = all_of(result, "next_reply")
    assert (first.start, first.fulfilled_at, first.elapsed) == (at(11), at(14), 3 * H)
    assert (second.start, second.state, second.elapsed) == (at(15), "active", 1 * H)


def test_message_before_first_reply_is_covered_by_first_reply_not_next_reply() -> None:
    facts = [created(9), message(9.5), reply(10)]
    result = evaluate(facts, policy(), None, at(11))
    assert all_of(result, "next_reply") == []
    assert only(result, "first_reply").elapsed == 1 * H


def test_periodic_and_pausable_update_cycles() -> None:
    facts = [created(9), reply(10), status(10, "pending"), status(11, "open"), reply(13), reply(14)]
    result = evaluate(facts, policy(), None, at(16))
    periodic = all_of(result, "periodic_update")
    assert [(p.start, p.fulfilled_at, p.elapsed) for p in periodic] == [
        (at(10), at(13), 3 * H),
        (at(13), at(14), 1 * H),
        (at(14), None, 2 * H),
    ]
    pausable = all_of(result, "pausable_update")
    assert [(p.elapsed, p.paused) for p in pausable] == [(2 * H, 1 * H), (1 * H, 0), (2 * H, 0)]
    assert [p.state for p in pausable] == ["fulfilled", "fulfilled", "active"]


def test_solve_stops_reply_cycles_and_reopen_does_not_restart_them() -> None:
    facts = [created(9), reply(10), status(10, "solved"), status(12, "open")]
    result = evaluate(facts, policy(), None, at(13))
    assert [p.state for p in all_of(result, "periodic_update")] == ["fulfilled"]
    assert only(result, "periodic_update").fulfilled_at == at(10)


# -- reopen ----------------------------------------------------------------------------------------


def test_reopen_resumes_resolution_metrics_and_solved_time_counts_as_paused() -> None:
    facts = [created(9), status(11, "solved"), message(15), status(15, "open"), status(16, "solved")]
    result = evaluate(facts, policy(), None, at(18))
    for metric in ("requester_wait", "agent_work", "total_resolution"):
        inst = only(result, metric)
        assert (inst.elapsed, inst.paused, inst.fulfilled_at, inst.state) == (3 * H, 4 * H, at(16), "fulfilled")
    still_open = evaluate(facts[:4], policy(), None, at(15.5))
    total = only(still_open, "total_resolution")
    assert (total.state, total.fulfilled_at, total.elapsed, total.due) == ("active", None, int(2.5 * H), at(113))


def test_breach_before_a_solve_stays_after_the_reopen() -> None:
    facts = [created(9), status(12, "solved"), status(13, "open")]
    result = evaluate(facts, policy(2 * H), None, at(14))
    total = only(result, "total_resolution")
    assert (total.breached_at, total.state) == (at(11), "breached-active")


# -- breaches --------------------------------------------------------------------------------------


def test_breach_while_active_then_fulfilled() -> None:
    facts = [created(9), reply(12)]
    result = evaluate(facts, policy(first_reply=2 * H), None, at(13))
    first = only(result, "first_reply")
    assert (first.breached_at, first.fulfilled_at, first.state) == (at(11), at(12), "breached-fulfilled")
    assert first.due == at(11)
    live = evaluate(facts[:1], policy(first_reply=2 * H), None, at(11.5))
    assert only(live, "first_reply").state == "breached-active"
    assert next_breach(live) == at(9 + 100)  # a breached instance is no longer the next breach


def test_reply_at_the_due_second_is_in_time_and_now_at_due_is_a_breach() -> None:
    facts = [created(9), reply(11)]
    assert only(evaluate(facts, policy(first_reply=2 * H), None, at(12)), "first_reply").state == "fulfilled"
    live = only(evaluate(facts[:1], policy(first_reply=2 * H), None, at(11)), "first_reply")
    assert (live.state, live.breached_at) == ("breached-active", at(11))
    before = only(evaluate(facts[:1], policy(first_reply=2 * H), None, at(11) - timedelta(seconds=1)), "first_reply")
    assert (before.state, before.elapsed) == ("active", 2 * H - 1)


def test_breach_while_paused() -> None:
    # requester_wait reaches its 2 h at 11:00 and is paused at 12:00: breached-paused.
    facts = [created(9), status(12, "pending")]
    result = evaluate(facts, policy(requester_wait=2 * H), None, at(13))
    requester = only(result, "requester_wait")
    assert (requester.state, requester.breached_at) == ("breached-paused", at(11))
    # agent_work paused at 10:00 never gets there while pending.
    agent = only(evaluate([created(9), status(10, "pending")], policy(agent_work=2 * H), None, at(20)), "agent_work")
    assert (agent.state, agent.breached_at, agent.elapsed) == ("paused", None, 1 * H)


# -- re-prioritisation -----------------------------------------------------------------------------

PRIORITIES = Policy(
    {
        "normal": (Target("first_reply", 8 * H), Target("total_resolution", 48 * H)),
        "urgent": (Target("first_reply", 1 * H), Target("total_resolution", 4 * H)),
    }
)


def test_raising_priority_rederives_due_from_the_start() -> None:
    result = evaluate([created(9), prio(9.25, "urgent")], PRIORITIES, None, at(9.5))
    assert only(result, "first_reply").due == at(10)
    assert only(result, "total_resolution").due == at(13)
    assert next_breach(result) == at(10)


def test_raising_priority_past_the_new_target_breaches_at_the_change_not_before() -> None:
    result = evaluate([created(9), prio(11, "urgent")], PRIORITIES, None, at(12))
    first = only(result, "first_reply")
    assert (first.state, first.breached_at) == ("breached-active", at(11))


def test_lowering_priority_keeps_a_recorded_breach() -> None:
    facts = [created(9, priority="urgent"), prio(11, "normal")]
    result = evaluate(facts, PRIORITIES, None, at(12))
    first = only(result, "first_reply")
    assert (first.state, first.breached_at) == ("breached-active", at(10))
    assert only(result, "total_resolution").state == "active"
    assert only(result, "total_resolution").due == at(9 + 48)


def test_fulfilled_instance_keeps_the_outcome_it_had() -> None:
    facts = [created(9), reply(11), prio(12, "urgent")]
    result = evaluate(facts, PRIORITIES, None, at(14))
    first = only(result, "first_reply")
    assert (first.state, first.target.seconds, first.breached_at) == ("fulfilled", 8 * H, None)
    assert only(result, "total_resolution").state == "breached-active"
    assert only(result, "total_resolution").breached_at == at(13)


def test_priority_without_targets_reports_no_instances() -> None:
    assert evaluate([created(9, priority="low")], PRIORITIES, None, at(10)) == []


# -- agent-created tickets -------------------------------------------------------------------------


def test_agent_created_ticket_first_reply_starts_at_customer_first_message() -> None:
    facts = [created(9, by_customer=False), reply(9), message(11), reply(12.5)]
    result = evaluate(facts, policy(), None, at(13))
    first = only(result, "first_reply")
    assert (first.start, first.fulfilled_at, first.elapsed) == (at(11), at(12.5), int(1.5 * H))
    assert all_of(result, "next_reply") == []
    before = evaluate(facts[:2], policy(), None, at(10))
    assert all_of(before, "first_reply") == []
    assert only(before, "total_resolution").start == at(9)


# -- business hours --------------------------------------------------------------------------------

WEEKDAYS_9_TO_17 = Schedule("UTC", tuple(Interval(d, time(9), time(17)) for d in range(5)))


def test_ticket_created_outside_business_hours_starts_counting_at_next_open() -> None:
    # Friday 20:00; opens Monday 09:00; 2 business hours -> Monday 11:00.
    friday = at(20, day=4)
    facts = [Fact(friday, "created", status="new", priority="normal", by_customer=True)]
    result = evaluate(facts, policy(2 * H, business=True), WEEKDAYS_9_TO_17, at(10, day=7))
    first = only(result, "first_reply")
    assert first.start == friday
    assert first.elapsed == 1 * H
    assert first.due == at(11, day=7)
    assert first.state == "active"
    late = evaluate(facts, policy(2 * H, business=True), WEEKDAYS_9_TO_17, at(12, day=7))
    assert only(late, "first_reply").breached_at == at(11, day=7)


def test_business_pause_and_breach_across_the_night() -> None:
    # Created Monday 16:00, pending Monday 16:30 - Tuesday 10:00, 2 business hours of requester wait:
    # 30 min Monday, then from Tuesday 10:00 another 90 min -> 11:30.
    facts = [created(16), status(16.5, "pending"), Fact(at(10, day=1), "status", status="open")]
    result = evaluate(facts, policy(2 * H, business=True), WEEKDAYS_9_TO_17, at(12, day=1))
    requester = only(result, "requester_wait")
    assert requester.breached_at == at(11.5, day=1)
    assert requester.paused == int(1.5 * H)  # business seconds spent pending (16:30-17:00, 09:00-10:00)
    total = only(result, "total_resolution")
    assert total.breached_at == at(10, day=1)


def test_business_reopen_counts_solved_business_time_as_paused() -> None:
    # Solved Monday 10:00, reopened Tuesday 10:00: 7 h Monday + 1 h Tuesday of business time solved.
    facts = [created(9), status(10, "solved"), Fact(at(10, day=1), "status", status="open")]
    result = evaluate(facts, policy(3 * H, business=True), WEEKDAYS_9_TO_17, at(11, day=1))
    total = only(result, "total_resolution")
    assert (total.elapsed, total.paused, total.state) == (2 * H, 8 * H, "active")
    assert total.due == at(12, day=1)


def test_business_target_without_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="no schedule"):
        evaluate([created(9)], policy(H, business=True), None, at(10))


# -- input checks ----------------------------------------------------------------------------------


def test_facts_out_of_order_or_without_created_are_refused() -> None:
    with pytest.raises(ValueError, match="created"):
        evaluate([reply(9)], policy(), None, at(10))
    with pytest.raises(ValueError, match="earlier"):
        evaluate([created(9), reply(10), reply(9.5)], policy(), None, at(11))
    with pytest.raises(ValueError, match="now"):
        evaluate([created(9), reply(10)], policy(), None, at(9.5))


def test_next_breach_ignores_paused_fulfilled_and_breached() -> None:
    facts = [created(9), reply(9), status(9, "pending")]
    result = evaluate(facts, policy(periodic_update=3 * H, total_resolution=5 * H), None, at(10))
    assert next_breach(result) == at(12)
    assert next_breach([]) is None


def test_lowering_to_a_priority_without_target_keeps_the_breach_on_record() -> None:
    result = evaluate([created(9, priority="urgent"), prio(11, "low")], PRIORITIES, None, at(12))
    first = only(result, "first_reply")
    assert (first.state, first.breached_at, first.target.seconds) == ("breached-active", at(10), 1 * H)
    assert all_of(result, "total_resolution") == []


# -- a brute-force oracle: second by second, calendar or business time -----------------------------

PAUSES = {"pausable_update": {"pending"}, "requester_wait": {"pending"}, "agent_work": {"pending", "on_hold"}}
ORACLE_METRICS = [
    "first_reply",
    "next_reply",
    "periodic_update",
    "pausable_update",
    "requester_wait",
    "agent_work",
    "total_resolution",
]
RESUMING = ("requester_wait", "agent_work", "total_resolution")


class _Inst:
    def __init__(self, metric: str, start: int, team: int | None = None) -> None:
        self.metric, self.start, self.team = metric, start, team
        self.elapsed = self.paused = self.solved_for = 0
        self.fulfilled: int | None = None
        self.breached: int | None = None
        self.kept: int | None = None  # target at fulfilment


# Open every day 00:05-00:12, 00:20-00:30 and 00:40-24:00 (UTC), for business-hour runs of the oracle.
ORACLE_SCHEDULE = Schedule(
    "UTC",
    tuple(
        Interval(d, a, b)
        for d in range(7)
        for a, b in [(time(0, 5), time(0, 12)), (time(0, 20), time(0, 30)), (time(0, 40), time(0))]
    ),
)


def oracle_open(second: int) -> bool:
    """Independent of business_time: seconds since DAY0 (a Monday 00:00 UTC) in ORACLE_SCHEDULE."""
    of_day = second % 86400
    return 300 <= of_day < 720 or 1200 <= of_day < 1800 or of_day >= 2400


def oracle(
    facts: list[tuple[int, str, str]],
    targets: dict[str, dict[str, int]],
    now: int,
    business: bool = False,
    *,
    by_customer: bool = True,
    start_team: int | None = None,
    team_targets: dict[int, int] | None = None,
) -> Counter[tuple]:
    """Steps through every second: apply the facts of that second, record a breach when the elapsed
    seconds of an unfinished instance have reached the target of the priority in force, then let one
    second pass (counting it as elapsed, or as paused in a pausing status; with ``business`` only the
    seconds ORACLE_SCHEDULE is open count at all)."""

    def counts(second: int) -> bool:
        return not business or oracle_open(second)

    def due_from(second: int, remaining: int) -> int:
        """The end of the second in which the remaining time runs out (with nothing remaining, the
        next counting instant)."""
        if remaining <= 0:
            while not counts(second):
                second += 1
            return second
        while remaining > 0:
            remaining -= counts(second)
            second += 1
        return second

    status, priority, team = "new", facts[0][2], start_team
    insts = [_Inst(m, facts[0][0]) for m in RESUMING]
    if by_customer:
        insts.append(_Inst("first_reply", facts[0][0]))
    if team is not None:
        insts.append(_Inst("group_ownership", facts[0][0], team))
    breach_target: dict[int, int] = {}

    def target(inst: _Inst) -> int | None:
        if inst.fulfilled is not None:
            return inst.kept
        if inst.metric == "group_ownership":
            value = (team_targets or {}).get(inst.team) if inst.team is not None else None
        else:
            value = targets.get(priority, {}).get(inst.metric)
        return breach_target.get(id(inst)) if value is None and inst.breached is not None else value

    def live(metric: str) -> _Inst | None:
        return next((i for i in insts if i.metric == metric and i.fulfilled is None), None)

    def fulfil(inst: _Inst, s: int) -> None:
        inst.kept, inst.fulfilled = target(inst), s

    by_second: dict[int, list[tuple[str, str]]] = {}
    for t, kind, value in facts[1:]:
        by_second.setdefault(t, []).append((kind, value))
    for s in range(facts[0][0], now + 1):
        for kind, value in by_second.get(s, []):
            if kind == "status":
                done_before, status = status in ("solved", "closed"), value
                if value in ("solved", "closed") and not done_before:
                    for inst in insts:
                        if inst.fulfilled is None:
                            fulfil(inst, s)
                elif done_before and value not in ("solved", "closed"):
                    for inst in insts:
                        if inst.metric in RESUMING:
                            inst.paused += inst.solved_for
                            inst.solved_for, inst.fulfilled = 0, None
                    if team is not None:
                        insts.append(_Inst("group_ownership", s, team))
            elif kind == "priority":
                priority = value
            elif kind == "reply":
                for metric in ("first_reply", "next_reply", "periodic_update", "pausable_update"):
                    running = live(metric)
                    if running is not None:
                        fulfil(running, s)
                if status not in ("solved", "closed"):
                    insts.append(_Inst("periodic_update", s))
                    insts.append(_Inst("pausable_update", s))
            elif kind == "message":
                if not any(i.metric == "first_reply" for i in insts):
                    insts.append(_Inst("first_reply", s))
                elif live("first_reply") is None and live("next_reply") is None:
                    insts.append(_Inst("next_reply", s))
            elif kind == "team":
                new_team = None if value == "none" else int(value)
                if new_team != team:
                    running = live("group_ownership")
                    if running is not None:
                        fulfil(running, s)
                    team = new_team
                    if team is not None and status not in ("solved", "closed"):
                        insts.append(_Inst("group_ownership", s, team))
        for inst in insts:
            limit = target(inst)
            if inst.fulfilled is None and inst.breached is None and limit is not None and inst.elapsed >= limit:
                inst.breached = s
                breach_target[id(inst)] = limit
        if s == now:
            break
        if not counts(s):
            continue
        for inst in insts:
            if inst.fulfilled is None:
                if status in PAUSES.get(inst.metric, ()):
                    inst.paused += 1
                else:
                    inst.elapsed += 1
            elif inst.metric in RESUMING and status in ("solved", "closed"):
                inst.solved_for += 1
    result: Counter[tuple] = Counter()
    for inst in insts:
        limit = target(inst)
        if limit is None:
            continue
        if inst.fulfilled is None:
            state = "paused" if status in PAUSES.get(inst.metric, ()) else "active"
        else:
            state = "fulfilled"
        if inst.breached is not None:
            due, state = inst.breached, "breached-" + state
        else:
            due = due_from(now if inst.fulfilled is None else inst.fulfilled, limit - inst.elapsed)
        result[
            (inst.metric, inst.team, inst.start, due, inst.elapsed, inst.paused, inst.fulfilled, inst.breached, state)
        ] += 1
    return result


ORIGIN = int(DAY0.timestamp())
fact_strategy = st.tuples(
    st.integers(0, 1500),
    st.sampled_from(["status", "priority", "reply", "message", "team"]),
    st.sampled_from(["new", "open", "pending", "on_hold", "solved", "closed"]),
    st.sampled_from(["normal", "urgent", "low"]),
    st.sampled_from(["1", "2", "none"]),
)
targets_strategy = st.fixed_dictionaries(
    {p: st.dictionaries(st.sampled_from(ORACLE_METRICS), st.integers(1, 900)) for p in ("normal", "urgent")}
)


@settings(max_examples=100, deadline=None)
@given(
    raw=st.lists(fact_strategy, max_size=10),
    targets=targets_strategy,
    start_priority=st.sampled_from(["normal", "urgent", "low"]),
    tail=st.integers(0, 600),
    business=st.booleans(),
    by_customer=st.booleans(),
    start_team=st.sampled_from([None, 1, 2]),
    team_targets=st.dictionaries(st.sampled_from([1, 2]), st.integers(1, 900)),
)
def test_matches_second_stepping_oracle(
    raw, targets, start_priority, tail, business, by_customer, start_team, team_targets
) -> None:
    steps = sorted(raw, key=lambda step: step[0])
    plain: list[tuple[int, str, str]] = [(0, "created", start_priority)]
    facts = [
        Fact(
            datetime.fromtimestamp(ORIGIN, UTC),
            "created",
            status="new",
            priority=start_priority,
            team=start_team,
            by_customer=by_customer,
        )
    ]
    for t, kind, state, priority, team_id in steps:
        value = {"status": state, "priority": priority, "team": team_id}.get(kind, "")
        plain.append((t, kind, value))
        when = datetime.fromtimestamp(ORIGIN + t, UTC)
        if kind == "status":
            facts.append(Fact(when, "status", status=state))
        elif kind == "priority":
            facts.append(Fact(when, "priority", priority=priority))
        elif kind == "team":
            facts.append(Fact(when, "team", team=None if team_id == "none" else int(team_id)))
        elif kind == "reply":
            facts.append(Fact(when, "public_reply_by_agent"))
        else:
            facts.append(Fact(when, "customer_message"))
    now = plain[-1][0] + tail
    pol = Policy(
        {p: tuple(Target(m, s, business) for m, s in per.items()) for p, per in targets.items()},
        group_ownership={t: Target("group_ownership", s, business) for t, s in team_targets.items()},
    )
    got = evaluate(facts, pol, ORACLE_SCHEDULE if business else None, datetime.fromtimestamp(ORIGIN + now, UTC))

    def secs(t: datetime | None) -> int | None:
        return None if t is None else int(t.timestamp()) - ORIGIN

    mine = Counter(
        (
            i.metric,
            i.team,
            secs(i.start),
            secs(i.due),
            i.elapsed,
            i.paused,
            secs(i.fulfilled_at),
            secs(i.breached_at),
            i.state,
        )
        for i in got
    )
    expected = oracle(
        plain, targets, now, business, by_customer=by_customer, start_team=start_team, team_targets=team_targets
    )
    assert mine == expected


# -- group ownership -------------------------------------------------------------------------------


def team(hour: float, value: int | None) -> Fact:
    return Fact(at(hour), "team", team=value)


TEAMS = Policy(
    PRIORITIES.targets, group_ownership={1: Target("group_ownership", 4 * H), 2: Target("group_ownership", H)}
)


def test_group_ownership_per_team_from_assignment_to_reassignment_or_solve_and_new_on_reopen() -> None:
    facts = [
        Fact(at(9), "created", status="new", priority="normal", team=1, by_customer=True),
        team(10, 2),
        status(12, "solved"),
        status(13, "open"),
        prio(13.5, "urgent"),  # priority does not change a team's target
    ]
    result = evaluate(facts, TEAMS, None, at(13.75))
    groups = all_of(result, "group_ownership")
    assert [(g.team, g.start, g.fulfilled_at, g.elapsed, g.breached_at, g.state) for g in groups] == [
        (1, at(9), at(10), 1 * H, None, "fulfilled"),
        (2, at(10), at(12), 2 * H, at(11), "breached-fulfilled"),
        (2, at(13), None, int(0.75 * H), None, "active"),
    ]
    assert groups[-1].due == at(14)
    assert next_breach(result) == at(14)


def test_group_ownership_pending_does_not_pause_and_teams_without_target_have_none() -> None:
    facts = [created(9), team(9, 3), team(10, 1), status(10, "pending"), team(11, None), team(12, 1)]
    result = evaluate(facts, TEAMS, None, at(13))
    groups = all_of(result, "group_ownership")
    assert [(g.team, g.start, g.elapsed, g.paused, g.state) for g in groups] == [
        (1, at(10), 1 * H, 0, "fulfilled"),
        (1, at(12), 1 * H, 0, "active"),
    ]


# -- solving without a reply, and priority changes while solved -----------------------------------


def test_solving_without_a_reply_fulfils_first_reply_and_a_later_message_starts_next_reply() -> None:
    facts = [created(9), status(10, "solved"), message(11), status(11, "open")]
    result = evaluate(facts, policy(), None, at(12))
    first = only(result, "first_reply")
    assert (first.state, first.fulfilled_at, first.elapsed) == ("fulfilled", at(10), 1 * H)
    nxt = only(result, "next_reply")
    assert (nxt.start, nxt.state, nxt.elapsed) == (at(11), "active", 1 * H)


def test_priority_raised_while_solved_applies_when_reopened() -> None:
    facts = [created(9), status(11, "solved"), prio(12, "urgent"), status(20, "open")]
    solved = evaluate(facts[:3], PRIORITIES, None, at(13))
    assert only(solved, "total_resolution").target.seconds == 48 * H  # kept while fulfilled
    result = evaluate(facts, PRIORITIES, None, at(21))
    total = only(result, "total_resolution")
    # 2 h before the solve + 1 h after the reopen; the 4 h urgent target is breached at 22:00.
    assert (total.state, total.elapsed, total.paused, total.due) == ("active", 3 * H, 9 * H, at(22))
