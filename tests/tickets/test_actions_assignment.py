"""Assignment, teams, what customers and collaborators may change, and replies (tickets.actions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deskpilot.accounts.models import Role, User
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.tickets import actions
from deskpilot.tickets.models import LinkKind, Message, Status, Ticket, TicketEvent, TicketLink, Via
from tests import factories

pytestmark = pytest.mark.django_db


def events(ticket: Ticket, field: str) -> list[tuple[Any, Any]]:
    return list(TicketEvent.objects.filter(ticket=ticket, field=field).values_list("old", "new"))


# --- assignee ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.AGENT])
def test_any_active_agent_may_be_assigned_without_a_team(role: str) -> None:
    agent = factories.user(Role.AGENT)
    assignee = factories.user(role)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": assignee})
    assert ticket.assignee_id == assignee.pk
    assert events(ticket, "assignee") == [(None, assignee.pk)]


@pytest.mark.parametrize("who", ["collaborator", "customer", "inactive"])
def test_assignee_must_be_an_active_agent(who: str) -> None:
    agent = factories.user(Role.AGENT)
    makers: dict[str, Callable[[], User]] = {
        "collaborator": lambda: factories.user(Role.COLLABORATOR),
        "customer": factories.customer_user,
        "inactive": lambda: factories.user(Role.AGENT),
    }
    person = makers[who]()
    if who == "inactive":
        person.is_active = False
        person.save()
    ticket = factories.ticket()
    with pytest.raises(InvalidInput) as error:
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": person})
    assert set(error.value.errors) == {"assignee"}
    with pytest.raises(InvalidInput):
        factories.ticket(actor=agent, assignee=person)
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None


def test_assignee_must_be_in_the_tickets_team() -> None:
    member, outsider = factories.user(Role.AGENT), factories.user(Role.AGENT)
    team = factories.team(members=[member])
    ticket = factories.ticket(actor=member, team=team)
    with pytest.raises(InvalidInput) as error:
        actions.update_ticket(ticket, actor=member, via=Via.WEB, changes={"assignee": outsider})
    assert set(error.value.errors) == {"assignee"}
    with pytest.raises(InvalidInput):
        factories.ticket(actor=member, team=team, assignee=outsider)
    actions.update_ticket(ticket, actor=member, via=Via.WEB, changes={"assignee": member})
    assert ticket.assignee_id == member.pk


def test_moving_to_another_team_unassigns_a_non_member() -> None:
    alice, bob = factories.user(Role.AGENT), factories.user(Role.AGENT)
    first, second = factories.team(members=[alice]), factories.team(members=[bob])
    ticket = factories.ticket(actor=alice, team=first, assignee=alice)
    actions.update_ticket(ticket, actor=alice, via=Via.WEB, changes={"team": second})
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (second.pk, None)
    assert events(ticket, "team") == [(first.pk, second.pk)]
    assert events(ticket, "assignee") == [(alice.pk, None)]


def test_moving_to_a_team_the_assignee_is_in_keeps_them() -> None:
    alice = factories.user(Role.AGENT)
    first, second = factories.team(members=[alice]), factories.team(members=[alice])
    ticket = factories.ticket(actor=alice, team=first, assignee=alice)
    actions.update_ticket(ticket, actor=alice, via=Via.WEB, changes={"team": second})
    assert (ticket.team_id, ticket.assignee_id) == (second.pk, alice.pk)
    assert events(ticket, "assignee") == []


def test_team_and_new_assignee_together() -> None:
    alice, bob = factories.user(Role.AGENT), factories.user(Role.AGENT)
    first, second = factories.team(members=[alice]), factories.team(members=[bob])
    ticket = factories.ticket(actor=alice, team=first, assignee=alice)
    actions.update_ticket(ticket, actor=alice, via=Via.WEB, changes={"team": second, "assignee": bob})
    assert (ticket.team_id, ticket.assignee_id) == (second.pk, bob.pk)
    with pytest.raises(InvalidInput) as error:
        actions.update_ticket(ticket, actor=alice, via=Via.WEB, changes={"team": first, "assignee": bob})
    assert set(error.value.errors) == {"assignee"}
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (second.pk, bob.pk)


def test_removing_the_team_keeps_the_assignee() -> None:
    alice = factories.user(Role.AGENT)
    ticket = factories.ticket(actor=alice, team=factories.team(members=[alice]), assignee=alice)
    actions.update_ticket(ticket, actor=alice, via=Via.WEB, changes={"team": None})
    assert (ticket.team_id, ticket.assignee_id) == (None, alice.pk)


# --- what customers may do ---------------------------------------------------------------------


@pytest.mark.parametrize("field", ["status", "team", "assignee", "tags"])
def test_customers_cannot_set_status_team_assignee_or_tags_on_create(field: str) -> None:
    agent = factories.user(Role.AGENT)
    account = factories.customer_user()
    value: Any = {
        "status": Status.OPEN,
        "team": factories.team(members=[agent]),
        "assignee": agent,
        "tags": ["vip"],
    }[field]
    for actor in (account, account.customer):
        with pytest.raises(InvalidInput) as error:
            factories.ticket(requester=account.customer, actor=actor, **{field: value})
        assert set(error.value.errors) == {field}
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [{"status": Status.SOLVED}, {"priority": "urgent"}, {"tags": ["vip"]}, {"subject": "Mine now"}],
)
def test_customers_cannot_change_ticket_fields(changes: dict[str, Any]) -> None:
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer)
    for actor in (account, account.customer):
        with pytest.raises(NotPermitted):
            actions.update_ticket(ticket, actor=actor, via=Via.WEB, changes=changes)
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


def test_customers_open_tickets_only_for_themselves() -> None:
    account = factories.customer_user()
    with pytest.raises(InvalidInput) as error:
        factories.ticket(requester=factories.customer(), actor=account)
    assert set(error.value.errors) == {"requester"}


def test_customers_first_message_is_always_public() -> None:
    account = factories.customer_user()
    with pytest.raises(InvalidInput) as error:
        factories.ticket(requester=account.customer, actor=account, public=False)
    assert set(error.value.errors) == {"public"}
    ticket = factories.ticket(requester=account.customer, actor=account)
    assert ticket.messages.get().public is True


def test_customer_cannot_set_status_with_a_reply_or_write_notes() -> None:
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer)
    with pytest.raises(InvalidInput) as error:
        actions.add_message(ticket, actor=account, via=Via.WEB, body_text="done", status=Status.SOLVED)
    assert set(error.value.errors) == {"status"}
    with pytest.raises(NotPermitted):
        actions.add_message(ticket, actor=account, via=Via.WEB, body_text="psst", public=False)
    # Mail from a customer without an account is always public.
    message = actions.add_message(ticket, actor=account.customer, via=Via.EMAIL, body_text="hi", public=False)
    assert message.public is True


def test_a_deactivated_account_cannot_act() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    agent.is_active = False
    agent.save()
    with pytest.raises(NotPermitted):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="ghost")
    with pytest.raises(NotPermitted):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "low"})


# --- collaborators -----------------------------------------------------------------------------


def test_collaborators_notes_cannot_change_the_status() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    ticket = factories.ticket()
    with pytest.raises(InvalidInput) as error:
        actions.add_message(
            ticket, actor=collaborator, via=Via.WEB, body_text="fixed", public=False, status=Status.SOLVED
        )
    assert set(error.value.errors) == {"status"}
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.messages.count() == 1


def test_collaborators_cannot_create_tickets() -> None:
    with pytest.raises(NotPermitted):
        factories.ticket(actor=factories.user(Role.COLLABORATOR))


def test_followers_must_be_active_staff() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    inactive = factories.user(Role.COLLABORATOR)
    inactive.is_active = False
    inactive.save()
    for person in (factories.customer_user(), inactive):
        with pytest.raises(InvalidInput) as error:
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"followers": [person]})
        assert set(error.value.errors) == {"followers"}
    assert list(ticket.followers.all()) == []


# --- replies and status ------------------------------------------------------------------------


def test_reply_with_status() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Need info", status=Status.PENDING)
    assert ticket.status == Status.PENDING
    assert events(ticket, "status") == [(Status.NEW, Status.PENDING)]
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Solved it", status=Status.SOLVED)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at is not None) == (Status.SOLVED, True)


@pytest.mark.parametrize("status", [Status.NEW, Status.CLOSED, "bogus"])
def test_reply_cannot_set_new_or_closed(status: str) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.OPEN})
    with pytest.raises(InvalidInput) as error:
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="x", status=status)
    assert set(error.value.errors) == {"status"}
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.messages.count() == 1


def test_customer_reply_to_a_closed_ticket_is_theirs_on_a_follow_up() -> None:
    agent = factories.user(Role.AGENT)
    account = factories.customer_user()
    ticket = factories.ticket(requester=account.customer, actor=agent, tags=["printer"], priority="high")
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    message = actions.add_message(ticket, actor=account, via=Via.WEB, body_text="Broken again")
    follow_up = Ticket.objects.get(pk=message.ticket_id)
    assert follow_up.pk != ticket.pk
    assert (follow_up.requester_id, follow_up.status, follow_up.priority) == (account.customer.pk, Status.NEW, "high")
    assert list(follow_up.tags.values_list("name", flat=True)) == ["printer"]
    assert message.author_customer_id == account.customer.pk
    assert message.public is True
    assert TicketLink.objects.filter(source=follow_up, target=ticket, kind=LinkKind.FOLLOW_UP).exists()
    created = TicketEvent.objects.get(ticket=follow_up, field="created")
    assert created.new is not None
    assert created.new["follow_up_of"] == ticket.pk
    assert created.actor_customer_id == account.customer.pk
    # The closed ticket stays closed and only notes the follow-up.
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert events(ticket, "link") == [(None, {"kind": "follow_up", "ticket": follow_up.pk})]
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_closed_tickets_cannot_be_changed_or_reopened_by_agents() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})
    for changes in ({"status": Status.OPEN}, {"priority": "low"}):
        with pytest.raises(InvalidInput):
            actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes=changes)
    with pytest.raises(InvalidInput):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="late note", public=False)


def test_add_and_remove_tags() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(actor=agent, tags=["one"])
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": ["Two Words", "three"]})
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["one", "three", "two-words"]
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"remove_tags": ["ONE"]})
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["three", "two-words"]
    assert events(ticket, "tags") == [
        (["one"], ["one", "three", "two-words"]),
        (["one", "three", "two-words"], ["three", "two-words"]),
    ]
    version = ticket.version
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"add_tags": ["three"], "remove_tags": ["nope"]})
    assert ticket.version == version


def test_a_channel_routes_a_customers_ticket_to_its_team_in_the_created_event():
    """A mailbox's team is the system's routing: accepted with a customer actor (who cannot set
    `team`), recorded in the created event, with no separate team change."""
    team = factories.team()
    customer = factories.customer()
    ticket = actions.create_ticket(
        actor=customer, via=Via.EMAIL, subject="Routed", body_text="Hello", requester=customer, routed_team=team
    )
    assert ticket.team == team
    assert [e.field for e in ticket.events.order_by("id")] == ["created", "message"]
    created = ticket.events.get(field="created")
    assert created.new is not None
    assert created.new["team"] == team.pk
    with pytest.raises(InvalidInput):
        actions.create_ticket(
            actor=customer, via=Via.EMAIL, subject="Chosen", body_text="Hi", requester=customer, team=team
        )
