"""The clock's facts come from the ticket's real events, written by the actions: the DOMAIN.md
worked example, played through the actions, gives the DOMAIN.md figures."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from deskpilot.accounts.models import Role
from deskpilot.policies import clock
from deskpilot.policies.facts import facts_for
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Via
from tests import factories

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
HOUR = 3600


def _at(hours: float) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def test_the_worked_example_through_the_actions() -> None:
    agent = factories.user(Role.AGENT)
    customer = factories.customer()
    ticket = actions.create_ticket(
        actor=customer, via=Via.EMAIL, subject="Printer", body_text="Broken", requester=customer, at=_at(0)
    )
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Which model?", status=Status.PENDING, at=_at(1))
    actions.add_message(ticket, actor=customer, via=Via.EMAIL, body_text="The X200", at=_at(3))
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="internal", public=False, at=_at(4))
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED}, at=_at(5))

    facts = facts_for(ticket.pk)
    assert [(f.kind, f.status, f.at) for f in facts] == [
        ("created", "new", _at(0)),
        ("customer_message", None, _at(0)),  # the request itself
        ("public_reply_by_agent", None, _at(1)),
        ("status", "pending", _at(1)),
        ("customer_message", None, _at(3)),  # the reply, then the reopen it causes
        ("status", "open", _at(3)),
        ("status", "solved", _at(5)),
    ]  # the internal note at 4 h is no fact
    assert facts[0].by_customer
    assert facts[0].priority == "normal"

    policy = clock.Policy(
        targets={
            "normal": (
                clock.Target("first_reply", 2 * HOUR),
                clock.Target("requester_wait", 8 * HOUR),
                clock.Target("agent_work", 8 * HOUR),
                clock.Target("total_resolution", 8 * HOUR),
            )
        }
    )
    instances = {i.metric: i for i in clock.evaluate(facts, policy, None, _at(6))}
    # DOMAIN.md: first reply 1 h; requester wait 1 h + 2 h = 3 h; total resolution 5 h.
    assert instances["first_reply"].elapsed == 1 * HOUR
    assert instances["requester_wait"].elapsed == 3 * HOUR
    assert instances["requester_wait"].paused == 2 * HOUR
    assert instances["total_resolution"].elapsed == 5 * HOUR
    assert all(i.fulfilled_at == _at(5) or i.metric == "first_reply" for i in instances.values())
    assert instances["first_reply"].fulfilled_at == _at(1)


def test_priority_and_team_changes_and_agent_created_tickets() -> None:
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    customer = factories.customer()
    ticket = actions.create_ticket(
        actor=agent, via=Via.WEB, subject="Call back", body_text="We called you", requester=customer, at=_at(0)
    )
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "urgent", "team": team}, at=_at(1))
    facts = facts_for(ticket.pk)
    assert not facts[0].by_customer
    assert facts[1].kind == "public_reply_by_agent"
    assert ("priority", "urgent") in [(f.kind, f.priority) for f in facts]
    assert ("team", team.pk) in [(f.kind, f.team) for f in facts]


def test_facts_take_one_query(django_assert_num_queries: Any) -> None:
    ticket = factories.ticket()
    with django_assert_num_queries(1):
        facts_for(ticket.pk)
