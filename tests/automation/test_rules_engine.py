"""Triggers on ticket changes (automation.rules.engine): conditions, actions, order, chains,
causes, the caller's copy, and what an evaluation costs in queries."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Trigger
from deskpilot.automation.rules import engine, store
from deskpilot.policies import actions as calendar_actions
from deskpilot.policies.models import DefaultCalendar
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    engine.clear_cache()
    yield
    engine.clear_cache()


def trigger(conditions: list[dict[str, Any]], rule_actions: list[dict[str, Any]], name: str = "t") -> Trigger:
    return store.save_rule(Trigger(name=name, conditions=conditions, actions=rule_actions))


def tags_of(ticket: Ticket) -> set[str]:
    return set(ticket.tags.values_list("name", flat=True))


def test_priority_changed_to_urgent_tags_and_records_the_cause():
    rule = trigger(
        [{"field": "priority", "op": "changed_to", "value": "urgent"}],
        [{"type": "add_tags", "tags": ["escalated"]}, {"type": "set", "field": "status", "value": "open"}],
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    assert tags_of(ticket) == set()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    assert tags_of(ticket) == {"escalated"}
    assert ticket.status == Status.OPEN  # the caller's copy is current
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.version) == (Status.OPEN, ticket.version)
    causes = {e.field: (e.cause, e.via) for e in TicketEvent.objects.filter(ticket=ticket).order_by("id")}
    assert causes["tags"] == (f"trigger:{rule.pk}", Via.RULE)
    assert causes["status"] == (f"trigger:{rule.pk}", Via.RULE)
    assert causes["priority"] == (None, Via.WEB)


def test_changed_from_and_not_on_other_changes():
    trigger([{"field": "status", "op": "changed_from", "value": "pending"}], [{"type": "add_tags", "tags": ["back"]}])
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    assert tags_of(ticket) == set()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"subject": "still pending"})
    assert tags_of(ticket) == set()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.OPEN})
    assert tags_of(ticket) == {"back"}


def test_on_create_with_channel_requester_and_organization():
    org = factories.organization()
    vip = factories.customer(organization=org)
    trigger(
        [
            {"field": "update", "op": "is", "value": "created"},
            {"field": "organization", "op": "is", "value": org.pk},
            {
                "any": [
                    {"field": "channel", "op": "is", "value": "email"},
                    {"field": "channel", "op": "is", "value": "api"},
                ]
            },
        ],
        [{"type": "set", "field": "priority", "value": "high"}],
    )
    ticket = factories.ticket(requester=vip, channel="api")
    assert ticket.priority == Priority.HIGH
    other = factories.ticket(channel="api")
    assert other.priority == Priority.NORMAL
    web = factories.ticket(requester=vip, channel="web")
    assert web.priority == Priority.NORMAL


def test_message_text_contains_from_a_customer():
    trigger(
        [
            {"field": "message", "op": "contains", "value": "REFUND"},
            {"field": "message_author", "op": "is", "value": "customer"},
        ],
        [{"type": "add_tags", "tags": ["billing"]}],
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(body_text="hello")
    assert tags_of(ticket) == set()
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="about your refund", public=True)
    assert tags_of(ticket) == set()  # an agent wrote it
    actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="I want a refund please")
    assert tags_of(ticket) == {"billing"}


def test_a_frustrated_customer_message_flags_the_ticket():
    trigger(
        [
            {"field": "message_frustrated", "op": "is", "value": True},
            {"field": "message_author", "op": "is", "value": "customer"},
        ],
        [{"type": "add_tags", "tags": ["frustrated"]}],
        name="flag",
    )
    trigger(
        [{"field": "message_sentiment", "op": "in", "value": ["positive"]}],
        [{"type": "add_tags", "tags": ["happy"]}],
        name="happy",
    )
    calm = factories.ticket(body_text="Could you tell me how to change my billing address?")
    assert tags_of(calm) == set()
    angry = factories.ticket(body_text="This is the third time I write. Nothing works and nobody answers. Awful!")
    assert tags_of(angry) == {"frustrated"}
    glad = factories.ticket(body_text="Thanks a lot, that was great help!")
    assert tags_of(glad) == {"happy"}
    # A change without a message has no sentiment: neither rule fires.
    agent = factories.user(Role.AGENT)
    actions.update_ticket(calm, actor=agent, via=Via.WEB, changes={"priority": "high"})
    assert tags_of(calm) == set()


def test_assign_team_and_agent():
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    trigger(
        [{"field": "tags", "op": "added", "value": ["tier2"]}],
        [{"type": "assign", "team": team.pk, "assignee": agent.pk}],
    )
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": ["tier2"]})
    assert (ticket.team_id, ticket.assignee_id) == (team.pk, agent.pk)


def test_triggers_run_in_order_and_later_ones_see_earlier_changes():
    first = trigger(
        [{"field": "priority", "op": "changed_to", "value": "urgent"}], [{"type": "add_tags", "tags": ["one"]}], "first"
    )
    trigger(
        [
            {"field": "priority", "op": "changed_to", "value": "urgent"},
            {"field": "tags", "op": "includes", "value": ["one"]},
        ],
        [{"type": "add_tags", "tags": ["two"]}],
        "second",
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    assert tags_of(ticket) == {"one", "two"}
    # Reordered: the second runs first, sees no "one", and does nothing.
    Ticket.objects.filter(pk=ticket.pk)
    store.move_rule(first, +1)
    other = factories.ticket()
    actions.update_ticket(other, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    assert tags_of(other) == {"one"}


def test_a_trigger_fires_once_per_change_even_when_its_own_change_matches_again():
    rule = trigger([{"field": "priority", "op": "is", "value": "urgent"}], [{"type": "add_tags", "tags": ["seen"]}])
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    fired = TicketEvent.objects.filter(ticket=ticket, cause=f"trigger:{rule.pk}")
    assert [e.field for e in fired] == ["tags"]


def test_chains_fire_other_triggers_and_stop_at_the_depth_limit(caplog):
    # t0: priority urgent -> tag s1; t1: s1 added -> s2; ... a chain longer than the limit.
    length = engine.MAX_DEPTH + 2
    trigger([{"field": "priority", "op": "changed_to", "value": "urgent"}], [{"type": "add_tags", "tags": ["s1"]}])
    for step in range(1, length):
        trigger(
            [{"field": "tags", "op": "added", "value": [f"s{step}"]}], [{"type": "add_tags", "tags": [f"s{step + 1}"]}]
        )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with caplog.at_level(logging.WARNING, logger="deskpilot.automation.rules.engine"):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    assert tags_of(ticket) == {f"s{i}" for i in range(1, engine.MAX_DEPTH + 1)}
    assert "chain stopped" in caplog.text
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version


def test_two_triggers_that_undo_each_other_stop():
    trigger(
        [{"field": "tags", "op": "added", "value": ["a"]}],
        [{"type": "remove_tags", "tags": ["a"]}, {"type": "add_tags", "tags": ["b"]}],
    )
    trigger(
        [{"field": "tags", "op": "added", "value": ["b"]}],
        [{"type": "remove_tags", "tags": ["b"]}, {"type": "add_tags", "tags": ["a"]}],
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": ["a"]})
    # a -> b (first) -> a (second); the first does not fire again in the same chain.
    assert tags_of(ticket) == {"a"}


def test_a_refused_action_skips_the_trigger_and_keeps_the_change(caplog):
    agent = factories.user(Role.AGENT)
    outsider = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    trigger([{"field": "priority", "op": "changed_to", "value": "high"}], [{"type": "assign", "assignee": outsider.pk}])
    ticket = factories.ticket(team=team, actor=agent)
    with caplog.at_level(logging.WARNING, logger="deskpilot.automation.rules.engine"):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.priority, stored.assignee_id) == (Priority.HIGH, None)
    assert ticket.version == stored.version
    assert "was not applied" in caplog.text


def test_inactive_triggers_do_not_fire_and_edits_reach_the_cache():
    rule = trigger([{"field": "priority", "op": "changed_to", "value": "low"}], [{"type": "add_tags", "tags": ["low"]}])
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    rule.active = False
    store.save_rule(rule)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.LOW})
    assert tags_of(ticket) == set()
    rule.active = True
    store.save_rule(rule)
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.LOW})
    assert tags_of(ticket) == {"low"}


def test_within_business_hours_uses_the_tickets_calendar():
    calendar = calendar_actions.create_calendar(
        name="Office", time_zone="UTC", intervals=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    )
    DefaultCalendar.objects.create(calendar=calendar)
    trigger(
        [{"field": "update", "op": "is", "value": "created"}, {"field": "business_hours", "op": "is", "value": False}],
        [{"type": "add_tags", "tags": ["after-hours"]}],
    )
    with time_machine.travel(datetime(2026, 3, 4, 12, tzinfo=UTC), tick=False):  # a Wednesday noon
        day = factories.ticket()
    with time_machine.travel(datetime(2026, 3, 4, 20, tzinfo=UTC), tick=False):
        night = factories.ticket()
    assert (tags_of(day), tags_of(night)) == (set(), {"after-hours"})


def test_an_evaluation_costs_one_query_when_nothing_matches():
    for n in range(100):
        trigger(
            [
                {"field": "priority", "op": "changed_to", "value": "urgent"},
                {"field": "team", "op": "is", "value": None},
            ],
            [{"type": "add_tags", "tags": [f"x{n}"]}],
        )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    events = actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    engine.active_triggers()  # warm
    with CaptureQueriesContext(connection) as queries:
        engine.on_events_recorded(Ticket, ticket=ticket, events=events)
    assert len(queries) == 1  # the version stamp


def test_tags_are_read_only_when_a_condition_needs_them():
    trigger(
        [{"field": "priority", "op": "is", "value": "low"}, {"field": "tags", "op": "includes", "value": ["vip"]}],
        [{"type": "set", "field": "priority", "value": "high"}],
    )
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(tags=["vip"], actor=agent)
    events = actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"subject": "new subject"})
    engine.active_triggers()
    with CaptureQueriesContext(connection) as queries:
        engine.on_events_recorded(Ticket, ticket=ticket, events=events)
    assert len(queries) == 1  # priority is normal: the tags are never asked for
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.LOW})
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.HIGH


def test_a_trigger_sets_a_custom_field():
    from deskpilot.tickets.models import CustomField

    CustomField.objects.create(key="plan", label="Plan", kind="dropdown", choices=["free", "gold"])
    trigger(
        [{"field": "priority", "op": "changed_to", "value": "urgent"}],
        [{"type": "set", "field": "custom_fields.plan", "value": "gold"}],
    )
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=factories.user(Role.AGENT), via=Via.WEB, changes={"priority": Priority.URGENT})
    assert ticket.custom_fields == {"plan": "gold"}
