"""Merging, splitting and linking tickets (tickets.actions)."""

from __future__ import annotations

import pytest

from deskpilot.accounts.models import Role
from deskpilot.core import search
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.tickets import actions
from deskpilot.tickets.models import LinkKind, Message, Status, Ticket, TicketEvent, TicketLink, Via
from tests import factories

pytestmark = pytest.mark.django_db


def _closed(agent: object) -> Ticket:
    ticket = factories.ticket()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.SOLVED})  # type: ignore[arg-type]
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.CLOSED})  # type: ignore[arg-type]
    return ticket


def _found(query: str) -> set[int]:
    matching = search.matching_ids(query, include_internal=True)
    assert matching is not None
    return set(Ticket.objects.filter(pk__in=matching).values_list("pk", flat=True))


# --- merge -------------------------------------------------------------------------------------


def test_merge_moves_messages_joins_tags_and_people_and_closes_the_source() -> None:
    agent = factories.user(Role.AGENT)
    cc_one, cc_two = factories.customer(), factories.customer()
    source = factories.ticket(actor=agent, tags=["printer", "urgent"], ccs=[cc_one], body_text="Zanzibar printer")
    target = factories.ticket(actor=agent, tags=["printer", "billing"], ccs=[cc_two])
    actions.add_message(source, actor=agent, via=Via.WEB, body_text="note on source", public=False)
    moved = set(source.messages.values_list("pk", flat=True))
    target_before = set(target.messages.values_list("pk", flat=True))

    result = actions.merge_tickets(source, target, actor=agent, via=Via.WEB)

    assert result.pk == target.pk
    assert set(Message.objects.filter(ticket=target).values_list("pk", flat=True)) == moved | target_before
    # The source keeps only an internal note saying where everything went.
    [note] = Message.objects.filter(ticket=source)
    assert note.public is False
    assert f"#{target.pk}" in note.body_text
    assert sorted(target.tags.values_list("name", flat=True)) == ["billing", "printer", "urgent"]
    assert set(target.ccs.values_list("pk", flat=True)) == {cc_one.pk, cc_two.pk, source.requester_id}
    source.refresh_from_db()
    assert source.status == Status.CLOSED
    assert source.closed_at is not None
    assert TicketLink.objects.filter(source=source, target=target, kind=LinkKind.MERGED_INTO).exists()
    # Events on both sides.
    target_merge = TicketEvent.objects.get(ticket=target, field="merge")
    assert target_merge.new == {"from": source.pk, "messages": sorted(moved)}
    assert target_merge.actor_user_id == agent.pk
    assert TicketEvent.objects.filter(ticket=target, field="tags").exists()
    assert TicketEvent.objects.filter(ticket=target, field="ccs").exists()
    source_events = list(TicketEvent.objects.filter(ticket=source).values_list("field", "new"))
    assert ("merge", {"into": target.pk, "messages": sorted(moved)}) in source_events
    assert ("status", Status.CLOSED) in source_events
    # The search index follows the messages.
    assert _found("zanzibar") == {target.pk}


def test_merge_of_the_same_requester_adds_no_cc() -> None:
    agent = factories.user(Role.AGENT)
    requester = factories.customer()
    source, target = factories.ticket(requester=requester), factories.ticket(requester=requester)
    actions.merge_tickets(source, target, actor=agent, via=Via.WEB)
    assert list(target.ccs.all()) == []
    assert not TicketEvent.objects.filter(ticket=target, field="ccs").exists()


@pytest.mark.parametrize("which", ["source", "target"])
def test_merging_a_closed_ticket_is_refused(which: str) -> None:
    agent = factories.user(Role.AGENT)
    tickets = {"source": factories.ticket(), "target": factories.ticket()}
    tickets[which] = _closed(agent)
    before = (Message.objects.count(), TicketEvent.objects.count(), TicketLink.objects.count())
    with pytest.raises(InvalidInput) as error:
        actions.merge_tickets(tickets["source"], tickets["target"], actor=agent, via=Via.WEB)
    assert set(error.value.errors) == {which}
    assert (Message.objects.count(), TicketEvent.objects.count(), TicketLink.objects.count()) == before


def test_merge_into_itself_is_refused() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    with pytest.raises(InvalidInput) as error:
        actions.merge_tickets(ticket, ticket, actor=agent, via=Via.WEB)
    assert set(error.value.errors) == {"target"}


@pytest.mark.parametrize("role", [Role.COLLABORATOR, Role.CUSTOMER])
def test_only_agents_merge_split_and_link(role: str) -> None:
    actor = factories.customer_user() if role == Role.CUSTOMER else factories.user(role)
    one, two = factories.ticket(), factories.ticket()
    with pytest.raises(NotPermitted):
        actions.merge_tickets(one, two, actor=actor, via=Via.WEB)
    with pytest.raises(NotPermitted):
        actions.split_ticket(one, actor=actor, via=Via.WEB, message_ids=[one.messages.get().pk])
    with pytest.raises(NotPermitted):
        actions.link_tickets(one, two, actor=actor, via=Via.WEB)
    with pytest.raises(NotPermitted):
        actions.merge_tickets(one, two, actor=one.requester, via=Via.EMAIL)


# --- split -------------------------------------------------------------------------------------


def test_split_moves_messages_to_a_linked_ticket() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket(actor=agent, tags=["vip"], priority="high", assignee=agent)
    first = ticket.messages.get()
    second = actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Also: Quokka export")
    third = actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="About the export…")

    new = actions.split_ticket(ticket, actor=agent, via=Via.WEB, message_ids=[third.pk, second.pk, second.pk])

    assert new.pk != ticket.pk
    assert new.subject == ticket.subject
    assert (new.status, new.priority, new.requester_id, new.assignee_id) == (
        Status.OPEN,
        "high",
        ticket.requester_id,
        agent.pk,
    )
    assert list(new.tags.values_list("name", flat=True)) == ["vip"]
    assert list(Message.objects.filter(ticket=new).order_by("id").values_list("pk", flat=True)) == [
        second.pk,
        third.pk,
    ]
    assert list(Message.objects.filter(ticket=ticket).values_list("pk", flat=True)) == [first.pk]
    assert TicketLink.objects.filter(source=new, target=ticket, kind=LinkKind.SPLIT_FROM).exists()
    assert TicketEvent.objects.get(ticket=ticket, field="split").new == {
        "into": new.pk,
        "messages": [second.pk, third.pk],
    }
    created = TicketEvent.objects.get(ticket=new, field="created")
    assert created.new is not None
    assert created.new["split_from"] == ticket.pk
    assert _found("quokka") == {new.pk}


def test_split_with_a_new_subject() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    extra = actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="second question")
    new = actions.split_ticket(ticket, actor=agent, via=Via.WEB, message_ids=[extra.pk], subject="  Second   one ")
    assert new.subject == "Second one"


def test_split_leaves_at_least_one_message_and_takes_only_its_own() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    other = factories.ticket()
    reply = actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="reply")
    all_ids = list(ticket.messages.values_list("pk", flat=True))
    before = Ticket.objects.count()
    for message_ids in (all_ids, [], [other.messages.get().pk], [reply.pk, 999_999]):
        with pytest.raises(InvalidInput) as error:
            actions.split_ticket(ticket, actor=agent, via=Via.WEB, message_ids=message_ids)
        assert set(error.value.errors) == {"message_ids"}
    assert Ticket.objects.count() == before
    assert ticket.messages.count() == 2


def test_split_of_a_closed_ticket_is_refused() -> None:
    agent = factories.user(Role.AGENT)
    ticket = _closed(agent)
    with pytest.raises(InvalidInput):
        actions.split_ticket(ticket, actor=agent, via=Via.WEB, message_ids=[ticket.messages.get().pk])


# --- links -------------------------------------------------------------------------------------


def test_link_records_an_event_on_both_tickets_once() -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket()
    link = actions.link_tickets(one, two, actor=agent, via=Via.WEB, kind=LinkKind.DUPLICATE_OF)
    again = actions.link_tickets(one, two, actor=agent, via=Via.WEB, kind=LinkKind.DUPLICATE_OF)
    assert link.pk == again.pk
    assert TicketEvent.objects.get(ticket=one, field="link").new == {
        "kind": "duplicate_of",
        "ticket": two.pk,
        "direction": "out",
    }
    assert TicketEvent.objects.get(ticket=two, field="link").new == {
        "kind": "duplicate_of",
        "ticket": one.pk,
        "direction": "in",
    }


def test_link_validation() -> None:
    agent = factories.user(Role.AGENT)
    one, two = factories.ticket(), factories.ticket()
    with pytest.raises(InvalidInput) as error:
        actions.link_tickets(one, one, actor=agent, via=Via.WEB)
    assert set(error.value.errors) == {"target"}
    with pytest.raises(InvalidInput) as error:
        actions.link_tickets(one, two, actor=agent, via=Via.WEB, kind="friend_of")
    assert set(error.value.errors) == {"kind"}
    assert not TicketLink.objects.exists()
