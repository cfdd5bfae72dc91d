"""Dry runs (automation.rules.dry_run): which recent tickets a rule would have matched, bounded,
read-only, in a fixed number of queries."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Automation
from deskpilot.automation.rules import dry_run, store
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketEvent, Via
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_trigger_dry_run_finds_the_changes_it_would_have_matched():
    agent = factories.user(Role.AGENT)
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=40), tick=False):
        old = factories.ticket()
        actions.update_ticket(old, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    recent = [factories.ticket(subject=f"recent {n}") for n in range(3)]
    for ticket in recent[:2]:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    actions.update_ticket(recent[2], actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    events = TicketEvent.objects.count()
    result = dry_run.trigger_dry_run([{"field": "priority", "op": "changed_to", "value": "urgent"}], now=now)
    assert result.matched == 2
    assert {m.ticket_id for m in result.tickets} == {recent[0].pk, recent[1].pk}
    assert result.complete
    assert TicketEvent.objects.count() == events  # nothing acted


def test_creation_messages_and_tags_are_judged_per_change():
    agent = factories.user(Role.AGENT)
    refund = factories.ticket(body_text="I want a refund")
    factories.ticket(body_text="hello")
    tagged = factories.ticket(tags=["vip"], actor=agent)
    conditions = [
        {"field": "update", "op": "is", "value": "created"},
        {"field": "message", "op": "contains", "value": "refund"},
    ]
    assert [m.ticket_id for m in dry_run.trigger_dry_run(conditions).tickets] == [refund.pk]
    vip: list[dict[str, Any]] = [
        {"field": "tags", "op": "includes", "value": ["vip"]},
        {"field": "update", "op": "is", "value": "created"},
    ]
    assert [m.ticket_id for m in dry_run.trigger_dry_run(vip).tickets] == [tagged.pk]


def test_the_scan_and_the_list_are_capped(monkeypatch):
    monkeypatch.setattr(dry_run, "EVENT_SCAN", 10)
    monkeypatch.setattr(dry_run, "SHOW", 3)
    for _ in range(8):
        factories.ticket()  # two events each (created, message)
    result = dry_run.trigger_dry_run([{"field": "update", "op": "is", "value": "created"}])
    assert not result.complete
    assert result.matched == 5
    assert len(result.tickets) == 3


def test_a_dry_run_costs_a_fixed_number_of_queries():
    agent = factories.user(Role.AGENT)
    conditions: list[dict[str, Any]] = [
        {"field": "tags", "op": "includes", "value": ["vip"]},
        {"field": "message", "op": "contains", "value": "help"},
    ]
    counts = []
    for size in (2, 12):
        for _ in range(size):
            factories.ticket(tags=["vip"], actor=agent, body_text="please help")
        with CaptureQueriesContext(connection) as queries:
            result = dry_run.trigger_dry_run(conditions)
        counts.append(len(queries))
        assert result.matched == Ticket.objects.count()
    # events, tickets, tags, message texts
    assert counts == [4, 4]


def test_an_automation_dry_run_lists_what_is_due_now():
    agent = factories.user(Role.AGENT)
    rule = store.save_rule(
        Automation(
            name="solve",
            status=Status.PENDING,
            hours=24,
            actions=[{"type": "set", "field": "status", "value": "solved"}],
        )
    )
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=2), tick=False):
        due = factories.ticket()
        actions.update_ticket(due, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    fresh = factories.ticket()
    actions.update_ticket(fresh, actor=agent, via=Via.WEB, changes={"status": Status.PENDING})
    result = dry_run.automation_dry_run(rule, now=now)
    assert [m.ticket_id for m in result.tickets] == [due.pk]
    assert Ticket.objects.get(pk=due.pk).status == Status.PENDING
