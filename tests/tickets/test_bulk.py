"""Bulk changes: every ticket changes through the actions (one event per change per ticket,
via web), all or nothing."""

from __future__ import annotations

import pytest

from deskpilot.accounts.models import Role
from deskpilot.core.errors import InvalidInput, NotPermitted, StaleVersion
from deskpilot.tickets import actions, bulk
from deskpilot.tickets.bulk import Selected
from deskpilot.tickets.models import LinkKind, Status, Ticket, TicketEvent, TicketLink, Via
from tests import factories

pytestmark = pytest.mark.django_db


def selection(*tickets: Ticket) -> list[Selected]:
    return [Selected(t.pk, Ticket.objects.get(pk=t.pk).version) for t in tickets]


def events(ticket: Ticket, field: str) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, field=field))


def test_set_status_records_one_event_per_ticket() -> None:
    agent = factories.user(Role.AGENT)
    one, two, three = (factories.ticket() for _ in range(3))
    assert bulk.apply(agent, selection(one, two, three), action="status", value="pending") == 3
    for ticket in (one, two, three):
        ticket.refresh_from_db()
        assert ticket.status == Status.PENDING
        [event] = events(ticket, "status")
        assert (event.old, event.new, event.via, event.actor_user) == ("new", "pending", Via.WEB, agent)


def test_assign_priority_and_tags() -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket(actor=agent, tags=["vip"])
    assert bulk.apply(agent, selection(one, two), action="assign", value=str(agent.pk)) == 2
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {agent.pk}
    assert bulk.apply(agent, selection(one, two), action="priority", value="urgent") == 2
    assert bulk.apply(agent, selection(one, two), action="add_tag", value="VIP") == 1  # two already had it
    assert sorted(one.tags.values_list("name", flat=True)) == ["vip"]
    assert bulk.apply(agent, selection(one, two), action="remove_tag", value="vip") == 2
    assert not Ticket.tags.through.objects.exists()
    assert bulk.apply(agent, selection(one, two), action="assign", value="none") == 2
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {None}


def test_a_failure_on_one_ticket_changes_none() -> None:
    agent = factories.user(Role.AGENT)
    stranger = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    free, in_team = factories.ticket(), factories.ticket(actor=agent, team=team)
    with pytest.raises(InvalidInput) as caught:
        bulk.apply(stranger, selection(free, in_team), action="assign", value=str(stranger.pk))
    assert caught.value.errors == {
        "assignee": f"ticket #{in_team.pk}: {stranger.email} is not a member of team {team.name!r}"
    }
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {None}
    assert not TicketEvent.objects.filter(field="assignee").exists()


def test_stale_version_changes_nothing() -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket()
    seen = selection(one, two)
    actions.update_ticket(two, actor=agent, via=Via.API, changes={"priority": "high"})
    with pytest.raises(StaleVersion):
        bulk.apply(agent, seen, action="status", value="open")
    assert set(Ticket.objects.values_list("status", flat=True)) == {Status.NEW}


@pytest.mark.parametrize(
    ("action", "value", "field"),
    [
        ("assign", "999999", "assignee"),
        ("assign", "bob", "assignee"),
        ("status", "done", "status"),
        ("priority", "", "priority"),
        ("add_tag", "  ", "tag"),
        ("explode", "", "action"),
        ("merge", "abc", "merge_target"),
    ],
)
def test_invalid_values(action: str, value: str, field: str) -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket()
    with pytest.raises(InvalidInput) as caught:
        bulk.apply(agent, selection(one, two), action=action, value=value)
    assert field in caught.value.errors
    assert TicketEvent.objects.exclude(field__in=["created", "message"]).count() == 0


def test_assignee_must_be_an_active_agent() -> None:
    agent = factories.user(Role.AGENT)
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    with pytest.raises(InvalidInput):
        bulk.apply(agent, selection(ticket), action="assign", value=str(collaborator.pk))


def test_unknown_or_missing_tickets() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with pytest.raises(InvalidInput, match="not found"):
        bulk.apply(agent, [*selection(ticket), Selected(ticket.pk + 100, 1)], action="status", value="open")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    with pytest.raises(InvalidInput, match="at least one"):
        bulk.apply(agent, [], action="status", value="open")
    with pytest.raises(InvalidInput, match="at least one"):
        bulk.parse_selection([])
    with pytest.raises(InvalidInput):
        bulk.parse_selection(["12"])
    with pytest.raises(InvalidInput):
        bulk.parse_selection([f"{i}:1" for i in range(bulk.MAX_TICKETS + 1)])
    assert bulk.parse_selection(["12:3", "12:3", "7:1"]) == [Selected(12, 3), Selected(7, 1)]


def test_only_agents_change_tickets() -> None:
    ticket = factories.ticket()
    collaborator = factories.user(Role.COLLABORATOR)
    actions.update_ticket(ticket, actor=factories.user(Role.ADMIN), via=Via.WEB, changes={"assignee": None})
    with pytest.raises(NotPermitted):
        bulk.apply(collaborator, selection(ticket), action="status", value="open")


def test_merge_into_one_of_the_selected() -> None:
    agent = factories.user(Role.AGENT)
    target, one, two = factories.ticket(), factories.ticket(), factories.ticket()
    assert bulk.apply(agent, selection(target, one, two), action="merge", value=f"#{target.pk}") == 3
    for source in (one, two):
        source.refresh_from_db()
        assert source.status == Status.CLOSED
        assert TicketLink.objects.filter(source=source, target=target, kind=LinkKind.MERGED_INTO).exists()
    assert target.messages.count() == 3
    assert len(events(target, "merge")) == 2


def test_merge_target_must_be_selected_and_current() -> None:
    agent = factories.user(Role.AGENT)
    target, one, outside = factories.ticket(), factories.ticket(), factories.ticket()
    with pytest.raises(InvalidInput, match="not among the selected"):
        bulk.apply(agent, selection(target, one), action="merge", value=str(outside.pk))
    with pytest.raises(InvalidInput, match="at least two"):
        bulk.apply(agent, selection(target), action="merge", value=str(target.pk))
    seen = selection(target, one)
    actions.update_ticket(one, actor=agent, via=Via.WEB, changes={"priority": "low"})
    with pytest.raises(StaleVersion):
        bulk.apply(agent, seen, action="merge", value=str(target.pk))
    assert not TicketLink.objects.exists()
    assert Ticket.objects.filter(status=Status.CLOSED).count() == 0
