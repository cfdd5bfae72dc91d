"""Macros and rule templates (automation.rules.macros): placeholders from a plain context, the
sandbox refusing escapes, and applying a macro through the ticket actions."""

from __future__ import annotations

import re

import pytest

from deskpilot.accounts.models import Role
from deskpilot.automation.models import Macro
from deskpilot.automation.rules import macros, schema, store
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Message, Priority, Status, Ticket, TicketEvent
from tests import factories

pytestmark = pytest.mark.django_db


def context() -> dict:
    return {"ticket": {"id": 7, "requester": {"first_name": "Ada", "name": "Ada Lovelace"}, "tags": ["vip"]}}


def test_placeholders_render_from_the_plain_context():
    text = macros.render(
        "Hi {{ ticket.requester.first_name }}, about #{{ ticket.id }}{% if 'vip' in ticket.tags %}!{% endif %}",
        context(),
    )
    assert text == "Hi Ada, about #7!"
    assert macros.render("{{ ticket.nothing }}|{{ nobody.name }}", context()) == "|"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ ''.__class__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "access to attribute '__class__'"),
        ("{{ ticket.__class__ }}", "access to attribute '__class__' of 'dict' object is unsafe"),
        ("{{ ticket.requester.name.__class__.__init__.__globals__ }}", "access to attribute '__class__'"),
        ("{{ cycler.__init__.__globals__.os }}", "access to attribute '__init__'"),
        ("{{ ticket|attr('__class__') }}", "access to attribute '__class__'"),
        ("{{ ticket.update({'id': 1}) }}", "access to attribute 'update' of 'dict' object is unsafe"),
        ("{{ 'x' * 100000000 }}", "repetition too large"),
        ("{{ 2 ** 100000 }}", "the power operator is not allowed"),
        ("{% for i in range(200000) %}{% endfor %}", "Range too big"),
        ("{{ lipsum(10000) }}", "renders to more than 20000 characters"),
    ],
)
def test_the_sandbox_refuses_escapes_and_exhaustion(source, problem):
    with pytest.raises(schema.RuleError, match=re.escape(problem)) as caught:
        macros.render(source, context(), path="reply")
    assert caught.value.path == "reply"


def test_the_context_holds_plain_values_only():
    agent = factories.user(Role.AGENT, name="Grace Hopper")
    org = factories.organization(name="Acme")
    ticket = factories.ticket(requester=factories.customer(name="Ada Lovelace", organization=org))
    built = macros.template_context(ticket, user=agent)

    def plain(value: object) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | float | bool)

    assert plain(built)
    assert built["ticket"]["requester"]["first_name"] == "Ada"
    assert built["current_user"]["first_name"] == "Grace"


def macro(**fields) -> Macro:
    fields.setdefault("name", "Ask for details")
    return store.save_rule(Macro(**fields))


def test_applying_a_macro_changes_fields_and_posts_the_reply():
    agent = factories.user(Role.AGENT, name="Grace Hopper")
    ticket = factories.ticket(requester=factories.customer(name="Ada Lovelace"))
    chosen = macro(
        actions=[
            {"type": "set", "field": "status", "value": "pending"},
            {"type": "set", "field": "priority", "value": "high"},
            {"type": "add_tags", "tags": ["needs-info"]},
        ],
        reply="Hello {{ ticket.requester.first_name }}, could you send a screenshot? {{ current_user.first_name }}",
    )
    message = macros.apply_macro(chosen, ticket, actor=agent)
    assert message is not None
    assert message.body_text == "Hello Ada, could you send a screenshot? Grace"
    assert (message.public, message.author_user_id) == (True, agent.pk)
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.priority, ticket.version) == (Status.PENDING, Priority.HIGH, stored.version)
    assert set(stored.tags.values_list("name", flat=True)) == {"needs-info"}
    caused = TicketEvent.objects.filter(ticket=ticket, cause=f"macro:{chosen.pk}")
    assert {e.field for e in caused} >= {"message", "status", "priority", "tags"}
    assert all(e.actor_user_id == agent.pk for e in caused)


def test_an_internal_note_macro():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    chosen = macro(reply="Checked the logs for #{{ ticket.id }}", reply_public=False)
    message = macros.apply_macro(chosen, ticket, actor=agent)
    assert message is not None
    assert (message.public, message.body_text) == (False, f"Checked the logs for #{ticket.pk}")


def test_a_macro_that_does_not_render_changes_nothing():
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    chosen = macro(actions=[{"type": "set", "field": "priority", "value": "urgent"}], reply="{{ 'x' * 100000000 }}")
    before = (Message.objects.count(), Ticket.objects.get(pk=ticket.pk).version)
    with pytest.raises(InvalidInput, match="reply"):
        macros.apply_macro(chosen, ticket, actor=agent)
    assert (Message.objects.count(), Ticket.objects.get(pk=ticket.pk).version) == before
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.NORMAL


def test_a_macro_whose_agent_left_is_refused_whole():
    agent = factories.user(Role.AGENT)
    leaver = factories.user(Role.AGENT)
    ticket = factories.ticket()
    chosen = macro(actions=[{"type": "assign", "assignee": leaver.pk}], reply="Assigned")
    leaver.is_active = False
    leaver.save()
    with pytest.raises(InvalidInput, match=r"actions\[0\].assignee"):
        macros.apply_macro(chosen, ticket, actor=agent)
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_a_macro_needs_changes_or_a_reply_and_a_reply_that_compiles():
    with pytest.raises(schema.RuleError, match="a macro needs field changes, a reply or both"):
        macro(reply="  ")
    with pytest.raises(schema.RuleError, match=r"^reply: line 1"):
        macro(reply="{% if %}")
