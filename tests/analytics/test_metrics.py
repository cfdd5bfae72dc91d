"""The pure metrics of one ticket from its events (deskpilot.analytics.metrics), on hand-built
histories with exact expected values."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from deskpilot.analytics.metrics import Duration, SlaOutcome, calendar_history, compute
from deskpilot.policies import clock
from deskpilot.policies.business_time import Interval, Schedule
from deskpilot.policies.sla import ALWAYS_OPEN

HOUR = 3600
FRI = datetime.datetime(2026, 3, 6, tzinfo=UTC)  # a Friday
MON = datetime.datetime(2026, 3, 9, tzinfo=UTC)
NINE_TO_FIVE = Schedule("UTC", tuple(Interval(d, datetime.time(9), datetime.time(17)) for d in range(5)))


@dataclass
class Event:
    field: str
    new: Any
    created_at: datetime.datetime
    actor_customer_id: int | None = None


def at(hour: float, day: datetime.datetime = MON) -> datetime.datetime:
    return day + datetime.timedelta(seconds=round(hour * HOUR))


def created(when: datetime.datetime, *, by_customer: bool = True, status: str = "new", **initial: Any) -> list[Event]:
    """A ticket's created event and its opening message, as create_ticket records them."""
    return [
        Event("created", {"status": status, "priority": "normal", **initial}, when, 7 if by_customer else None),
        message(when, "customer" if by_customer else "agent"),
    ]


def message(when: datetime.datetime, role: str, *, public: bool = True) -> Event:
    return Event("message", {"public": public, "author_role": role}, when, 7 if role == "customer" else None)


def status(when: datetime.datetime, new: str) -> Event:
    return Event("status", new, when)


def test_the_worked_example_of_domain_md() -> None:
    events = [
        *created(at(9)),
        message(at(10), "agent"),
        status(at(10), "pending"),
        message(at(12), "customer"),
        status(at(12), "open"),
        status(at(14), "solved"),
    ]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.requester_wait_time == Duration(3 * HOUR, 3 * HOUR)
    assert figures.agent_wait_time == Duration(2 * HOUR, 2 * HOUR)
    assert figures.full_resolution_time == Duration(5 * HOUR, 5 * HOUR)
    assert figures.first_resolution_time == Duration(5 * HOUR, 5 * HOUR)
    assert figures.first_reply_time == Duration(HOUR, HOUR)
    assert figures.on_hold_time == Duration(0, 0)
    assert (figures.replies, figures.customer_messages, figures.reopens) == (1, 2, 0)
    assert figures.one_touch is True
    assert figures.first_contact_resolution is False


def test_nothing_is_measured_before_its_end_exists() -> None:
    figures = compute([*created(at(9)), message(at(9.5), "agent", public=False)], ALWAYS_OPEN)
    assert figures.first_reply_time is None
    assert figures.first_resolution_time is figures.full_resolution_time is None
    assert figures.requester_wait_time is figures.agent_wait_time is figures.on_hold_time is None
    assert figures.one_touch is figures.first_contact_resolution is None
    assert figures.solved_at is None
    assert figures.replies == 0


def test_a_ticket_created_on_friday_evening_counts_business_time_from_monday() -> None:
    events = [
        *created(at(18, FRI)),
        message(at(10), "agent"),
        status(at(10), "open"),
        status(at(11), "solved"),
    ]
    figures = compute(events, NINE_TO_FIVE)
    assert figures.first_reply_time == Duration(64 * HOUR, HOUR)
    assert figures.first_resolution_time == Duration(65 * HOUR, 2 * HOUR)
    assert figures.requester_wait_time == Duration(65 * HOUR, 2 * HOUR)


def test_a_holiday_is_outside_business_hours() -> None:
    holiday = Schedule("UTC", NINE_TO_FIVE.intervals, frozenset({datetime.date(2026, 3, 10)}))  # Tuesday
    events = [*created(at(16)), message(at(10, MON + datetime.timedelta(days=2)), "agent")]
    assert compute(events, holiday).first_reply_time == Duration(42 * HOUR, 2 * HOUR)
    assert compute(events, NINE_TO_FIVE).first_reply_time == Duration(42 * HOUR, 10 * HOUR)


def test_business_time_follows_the_calendars_time_zone() -> None:
    # 09:00-17:00 in New York is 13:00-21:00 UTC on Monday 9 March 2026 (EDT from 8 March).
    new_york = Schedule("America/New_York", NINE_TO_FIVE.intervals)
    events = [*created(at(12)), message(at(15), "agent")]
    assert compute(events, new_york).first_reply_time == Duration(3 * HOUR, 2 * HOUR)


def test_a_reopened_ticket() -> None:
    events = [
        *created(at(9)),
        message(at(9.5), "agent"),
        status(at(9.5), "open"),
        status(at(10), "solved"),
        message(at(11), "customer"),
        status(at(11), "open"),
        status(at(11.5), "on_hold"),
        status(at(12), "open"),
        message(at(12.5), "agent"),
        status(at(13), "solved"),
        status(at(20), "closed"),
    ]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.reopens == 1
    assert figures.first_resolution_time == Duration(HOUR, HOUR)
    assert figures.full_resolution_time == Duration(4 * HOUR, 4 * HOUR)
    # 09:00-10:00 and 11:00-13:00; the hour solved in between waits on nobody.
    assert figures.requester_wait_time == Duration(3 * HOUR, 3 * HOUR)
    assert figures.on_hold_time == Duration(HOUR // 2, HOUR // 2)
    assert (figures.first_solved_at, figures.solved_at) == (at(10), at(13))
    assert figures.one_touch is False  # two public replies
    assert figures.first_contact_resolution is False  # the customer wrote again


def test_a_reopened_ticket_not_solved_again_keeps_only_its_first_resolution() -> None:
    events = [*created(at(9)), status(at(10), "solved"), message(at(11), "customer"), status(at(11), "open")]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.reopens == 1
    assert figures.first_resolution_time == Duration(HOUR, HOUR)
    assert figures.first_solved_at == at(10)
    assert figures.full_resolution_time is None
    assert figures.solved_at is None
    assert figures.requester_wait_time is None
    assert figures.one_touch is None


def test_closing_a_solved_ticket_is_neither_a_solve_nor_a_reopen() -> None:
    events = [*created(at(9)), status(at(10), "solved"), status(at(12), "closed")]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.reopens == 0
    assert figures.full_resolution_time == Duration(HOUR, HOUR)
    assert figures.solved_at == at(10)


def test_one_touch_and_first_contact_resolution() -> None:
    one_reply = [*created(at(9)), message(at(10), "agent"), status(at(10), "solved")]
    figures = compute(one_reply, ALWAYS_OPEN)
    assert (figures.one_touch, figures.first_contact_resolution) == (True, True)

    # Notes are not replies, and a solve without any reply is one-touch too (fewer than two).
    no_reply = [*created(at(9)), message(at(9.5), "agent", public=False), status(at(10), "solved")]
    figures = compute(no_reply, ALWAYS_OPEN)
    assert (figures.replies, figures.one_touch, figures.first_contact_resolution) == (0, True, True)
    assert figures.first_reply_time is None

    # The customer's "thanks" after the answer: two customer messages, not a first-contact resolution.
    thanks = [*created(at(9)), message(at(10), "agent"), message(at(10.5), "customer"), status(at(11), "solved")]
    figures = compute(thanks, ALWAYS_OPEN)
    assert (figures.one_touch, figures.first_contact_resolution) == (True, False)

    two_replies = [*created(at(9)), message(at(10), "agent"), message(at(10.2), "admin"), status(at(11), "solved")]
    figures = compute(two_replies, ALWAYS_OPEN)
    assert (figures.replies, figures.one_touch, figures.first_contact_resolution) == (2, False, True)


def test_an_agent_created_ticket_measures_first_reply_from_the_customers_first_message() -> None:
    events = [
        *created(at(9), by_customer=False),  # the agent's opening message is the description
        message(at(9.5), "agent"),  # a follow-up before the customer spoke: a reply, but not the first reply
        message(at(10), "customer"),
        message(at(11.5), "manager"),
        status(at(12), "solved"),
    ]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.first_reply_time == Duration(int(1.5 * HOUR), int(1.5 * HOUR))
    assert figures.replies == 2
    assert figures.customer_messages == 1
    # An outbound ticket the customer never answered has no first reply time.
    silent = compute([*created(at(9), by_customer=False), status(at(10), "solved")], ALWAYS_OPEN)
    assert silent.first_reply_time is None
    assert (silent.replies, silent.customer_messages) == (0, 0)


def test_stations_count_distinct_assignees_and_teams() -> None:
    events = [
        *created(at(9), team=1, assignee=5),
        Event("assignee", 6, at(10)),
        Event("assignee", 5, at(11)),
        Event("team", 2, at(12)),
        Event("assignee", None, at(12)),
        Event("team", None, at(13)),
        Event("team", 1, at(14)),
    ]
    figures = compute(events, ALWAYS_OPEN)
    assert (figures.assignee_stations, figures.group_stations) == (2, 2)
    assert compute(created(at(9)), ALWAYS_OPEN).assignee_stations == 0


def test_escalations_count_steps_up_and_a_merge_names_the_target() -> None:
    events = [
        *created(at(9)),
        Event("escalation", {"level": "tier2", "direction": "up"}, at(10)),
        Event("escalation", {"level": "manager", "direction": "up"}, at(11)),
        Event("escalation", {"level": None, "direction": "down"}, at(12)),
        Event("merge", {"into": 42, "messages": [1]}, at(13)),
        status(at(13), "solved"),
        status(at(13), "closed"),
    ]
    figures = compute(events, ALWAYS_OPEN)
    assert figures.escalations == 2
    assert figures.merged_into == 42
    assert figures.solved_at == at(13)


def test_sla_outcome_per_target_as_of_the_latest_event() -> None:
    policy = clock.Policy(
        targets={
            "normal": (
                clock.Target("first_reply", HOUR),
                clock.Target("total_resolution", 2 * HOUR),
                clock.Target("periodic_update", HOUR),
            )
        }
    )
    events = [*created(at(9)), message(at(9.5), "agent"), status(at(9.5), "open")]
    figures = compute(events, ALWAYS_OPEN, policy)
    assert figures.sla == {
        "first_reply": SlaOutcome(met=1),
        "total_resolution": SlaOutcome(running=1),
        "periodic_update": SlaOutcome(running=1),
    }
    # The sweep records the breaches as events when they happen (10:30, 11:00): from then on the
    # outcome is breached.
    events += [Event("sla", None, at(10.5)), Event("sla", None, at(11.25))]
    figures = compute(events, ALWAYS_OPEN, policy)
    assert figures.sla == {
        "first_reply": SlaOutcome(met=1),
        "total_resolution": SlaOutcome(breached=1),
        "periodic_update": SlaOutcome(breached=1),
    }
    assert (figures.sla_met, figures.sla_breached) == (1, 2)
    assert compute(events, ALWAYS_OPEN).sla == {}


def test_business_targets_use_the_schedule() -> None:
    policy = clock.Policy(targets={"normal": (clock.Target("first_reply", HOUR, business=True),)})
    # Created Friday 16:30, answered Monday 09:20: 50 business minutes, in time.
    events = [*created(at(16.5, FRI)), message(at(9 + 1 / 3), "agent")]
    assert compute(events, NINE_TO_FIVE, policy).sla == {"first_reply": SlaOutcome(met=1)}
    assert compute(events, ALWAYS_OPEN, policy).sla == {"first_reply": SlaOutcome(breached=1)}


def test_a_ticket_created_solved_has_zero_resolution_time() -> None:
    figures = compute(created(at(9), status="solved"), ALWAYS_OPEN)
    assert figures.first_resolution_time == Duration(0, 0)
    assert figures.full_resolution_time == Duration(0, 0)
    assert figures.requester_wait_time == Duration(0, 0)


def test_without_a_created_event_there_are_no_metrics() -> None:
    figures = compute([status(at(10), "solved")], ALWAYS_OPEN)
    assert figures.first_resolution_time is None
    assert figures.solved_at is None


def test_a_span_counts_on_the_calendar_in_force_when_it_ends() -> None:
    tokyo = Schedule("Asia/Tokyo", NINE_TO_FIVE.intervals)  # 00:00-08:00 UTC
    # Created Monday 07:00 UTC under Tokyo's hours; moved to a UTC office at 08:30; solved 10:00.
    calendars = [(int(at(7).timestamp()), tokyo), (int(at(8.5).timestamp()), NINE_TO_FIVE)]
    events = [*created(at(7)), status(at(10), "solved")]
    figures = compute(events, calendars)
    # The whole span on the UTC office's calendar (09:00-10:00), the one in force at the end...
    assert figures.full_resolution_time == Duration(3 * HOUR, HOUR)
    # ...but the time in new split: 07:00-08:00 open in Tokyo, 08:30-10:00 open 09:00-10:00 in UTC.
    assert figures.requester_wait_time == Duration(3 * HOUR, 2 * HOUR)


def test_calendar_history_follows_team_organization_pin_and_policy() -> None:
    events = [
        *created(at(9), team=1, organization=5),
        Event("sla_policy", {"id": 3, "name": "Standard"}, at(9)),
        Event("team", 2, at(10)),
        Event("assignee", 8, at(10.5)),  # no say in the calendar
        Event("sla_pin", {"policy": None, "calendar": 9}, at(11)),
        Event("organization", None, at(12)),
        Event("sla_policy", {"id": 4, "name": "Premium"}, at(13)),
        Event("team", 1, at(14)),
        Event("team", 2, at(14)),  # undone at the same instant: no change
    ]
    history = calendar_history(events, current_policy=4)
    assert history == [
        (int(at(9).timestamp()), (3, None, 1, 5)),
        (int(at(10).timestamp()), (3, None, 2, 5)),
        (int(at(11).timestamp()), (3, 9, 2, 5)),
        (int(at(12).timestamp()), (3, 9, 2, None)),
        (int(at(13).timestamp()), (4, 9, 2, None)),
    ]


def test_without_recorded_policies_the_current_one_applies_throughout() -> None:
    events = [*created(at(9), team=1), Event("team", 2, at(10))]
    assert calendar_history(events, current_policy=7) == [
        (int(at(9).timestamp()), (7, None, 1, None)),
        (int(at(10).timestamp()), (7, None, 2, None)),
    ]
    # The latest recorded policy gives way to the current one (a bulk SLA rebuild changed it).
    events.append(Event("sla_policy", {"id": 3, "name": "Old"}, at(11)))
    assert calendar_history(events, current_policy=7)[-1] == (int(at(11).timestamp()), (7, None, 2, None))
    assert calendar_history([], current_policy=7) == [(0, (7, None, None, None))]
