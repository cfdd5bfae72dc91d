"""The demo data generator: believable, reproducible, and exactly what the actions would write."""

from __future__ import annotations

import datetime
import io
import itertools
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import ForeignKey, Model

from deskpilot import demo
from deskpilot.accounts.models import Role, TeamMembership, User
from deskpilot.analytics.models import TicketMetrics
from deskpilot.core import search
from deskpilot.core.html import text_to_html
from deskpilot.customers.models import Customer, CustomerEmail
from deskpilot.demo import generator, simulate, vocabulary
from deskpilot.demo.staff import DOMAIN, PASSWORD
from deskpilot.policies import sla
from deskpilot.policies.models import BusinessCalendar, DefaultCalendar, SlaPolicy
from deskpilot.tickets import actions
from deskpilot.tickets.models import (
    REOPENED_BY_CUSTOMER,
    UNSOLVED,
    Message,
    Status,
    Ticket,
    TicketEvent,
    TicketTag,
    Via,
)
from tests import factories

pytestmark = pytest.mark.django_db

# A Monday noon: the periods below end at a known point of the week.
NOW = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)
CREATED_KEYS = {
    "subject", "status", "priority", "type", "channel", "requester", "organization", "team", "assignee", "tags",
    "ccs", "custom_fields",
}  # fmt: skip
REPLAYED = ("status", "priority", "assignee", "team", "tags")


def _generate(tickets: int = 300, *, days: int = 30, seed: int = 7, **kwargs: Any) -> generator.Result:
    return generator.generate(tickets=tickets, days=days, seed=seed, now=NOW, **kwargs)


def _tickets(result: generator.Result) -> list[Ticket]:
    return list(Ticket.objects.filter(pk__range=(result.first_ticket, result.last_ticket)).order_by("pk"))


class _Rows:
    """A run's tickets with their events, messages, tags and CCs, loaded in a few queries."""

    def __init__(self, result: generator.Result) -> None:
        self.tickets = _tickets(result)
        ids = [t.pk for t in self.tickets]
        self.events: dict[int, list[TicketEvent]] = {pk: [] for pk in ids}
        # The generator's own rows; the SLA findings the clock recompute adds afterwards (dated at
        # their moments) are checked by test_the_history_runs_under_the_demo_service_policies.
        for e in TicketEvent.objects.filter(ticket_id__in=ids).exclude(cause="sla").order_by("created_at", "pk"):
            self.events[e.ticket_id].append(e)
        self.messages: dict[int, list[Message]] = {pk: [] for pk in ids}
        for m in Message.objects.filter(ticket_id__in=ids).order_by("pk"):
            self.messages[m.ticket_id].append(m)
        self.tags: dict[int, list[str]] = {pk: [] for pk in ids}
        for ticket_id, name in TicketTag.objects.filter(ticket_id__in=ids).values_list("ticket_id", "tag__name"):
            self.tags[ticket_id].append(name)
        self.ccs: dict[int, list[int]] = {pk: [] for pk in ids}
        for ticket_id, customer_id in Ticket.ccs.through.objects.filter(ticket_id__in=ids).values_list(
            "ticket_id", "customer_id"
        ):
            self.ccs[ticket_id].append(customer_id)


def _snapshot(result: generator.Result) -> list[tuple[Any, ...]]:
    """Everything generated for the run's tickets, with the ids that necessarily differ between
    runs (tickets, messages, events) replaced by positions."""
    data = _Rows(result)
    rows = []
    for ticket in data.tickets:
        messages = data.messages[ticket.pk]
        position = {m.pk: i for i, m in enumerate(messages)}
        events = []
        for e in sorted(data.events[ticket.pk], key=lambda e: e.pk):
            new: Any = e.new
            if e.field == "message":
                new = dict(new, id=position[new["id"]])
            at = position.get(e.message_id) if e.message_id is not None else None
            events.append((e.field, e.old, new, e.actor_user_id, e.actor_customer_id, e.via, at, e.created_at))
        rows.append(
            (
                ticket.subject, ticket.status, ticket.priority, ticket.type, ticket.channel, ticket.requester_id,
                ticket.organization_id, ticket.team_id, ticket.assignee_id, ticket.created_at, ticket.updated_at,
                ticket.solved_at, ticket.closed_at, ticket.version, sorted(data.tags[ticket.pk]),
                sorted(data.ccs[ticket.pk]),
                [(m.author_user_id, m.author_customer_id, m.public, m.body_text, m.body_html, m.via, m.created_at)
                 for m in messages],
                events,
            )
        )  # fmt: skip
    return rows


# --- reproducible -------------------------------------------------------------------------------


def test_same_seed_gives_same_data_in_process_or_in_helper_process():
    first = _generate(120, parallel=False)
    # The rerun reuses the people (same seed, same addresses) and appends new tickets: apart from
    # their numbers they must be identical, also when simulated by the helper process.
    second = _generate(120, parallel=True, batch_size=50)
    assert first.last_ticket is not None
    assert second.first_ticket == first.last_ticket + 1
    assert _snapshot(first) == _snapshot(second)
    other = _generate(120, seed=8)
    assert [row[0] for row in _snapshot(other)] != [row[0] for row in _snapshot(first)]


def test_every_template_slot_is_filled():
    slots = {key: values[0] for key, values in vocabulary.SLOT_VALUES.items()}
    slots |= dict.fromkeys(
        ("first", "full", "company", "agent", "agent2", "other_first", "product", "invoice", "po", "card", "count",
         "seats", "code"), "x",
    )  # fmt: skip
    texts = [
        *vocabulary.CUSTOMER_GREETINGS, *vocabulary.CUSTOMER_CONTEXT, *vocabulary.CUSTOMER_SIGNOFFS,
        *vocabulary.AGENT_GREETINGS, *vocabulary.AGENT_SIGNOFFS, *vocabulary.AGENT_WORKING, *vocabulary.AGENT_ON_HOLD,
        *vocabulary.AGENT_NUDGE, *vocabulary.AGENT_NO_REPLY_SOLVE, *vocabulary.CUSTOMER_THANKS,
        *vocabulary.CUSTOMER_STILL_BROKEN, *vocabulary.CUSTOMER_PING, *vocabulary.INTERNAL_NOTES,
        *vocabulary.PHONE_INTRO,
    ]  # fmt: skip
    for topic in vocabulary.TOPICS:
        texts += [*topic.subjects, *topic.problems, *topic.asks, *topic.answers, *topic.fixes]
    for text in texts:
        text.format_map(slots)  # raises KeyError for a slot the simulation does not fill
    for topic in vocabulary.TOPICS:
        assert topic.team in {t.key for t in vocabulary.TEAMS}
        assert all(topic.subjects)
        assert all(len(texts) > 0 for texts in (topic.problems, topic.asks, topic.answers, topic.fixes))


# --- believable -----------------------------------------------------------------------------------


def test_arrivals_follow_weekday_and_hour_of_day_shape():
    result = _generate(2000, days=28, batch_size=1000)
    created = [t.created_at for t in _tickets(result)]
    assert len(created) == 2000
    assert all(NOW - datetime.timedelta(days=28) <= c < NOW for c in created)
    per_day = Counter(c.date() for c in created)
    weekdays = [n for day, n in per_day.items() if day.weekday() < 5]
    weekends = [n for day, n in per_day.items() if day.weekday() >= 5]
    assert sum(weekdays) / len(weekdays) > 2 * sum(weekends) / len(weekends)
    per_hour = Counter(c.hour for c in created)
    peak = sum(per_hour[h] for h in range(9, 17))
    night = sum(per_hour[h] for h in range(8))
    assert peak > 3 * night


def test_a_believable_mix():
    result = _generate(600, days=60)
    tickets = _tickets(result)
    statuses = Counter(t.status for t in tickets)
    # Old tickets are closed, the newest still being worked on.
    assert statuses[Status.CLOSED] > len(tickets) / 2
    assert statuses[Status.NEW] + statuses[Status.OPEN] + statuses[Status.PENDING] > 0
    recent = [t for t in tickets if t.created_at > NOW - datetime.timedelta(hours=12)]
    assert all(t.status != Status.CLOSED for t in recent)
    assert len({t.priority for t in tickets}) == 4
    assert len({t.channel for t in tickets}) >= 5
    assert len({t.subject for t in tickets}) > 150
    assert len({t.requester_id for t in tickets}) > 60
    events = TicketEvent.objects.filter(ticket__in=tickets)
    fields = Counter(events.values_list("field", flat=True))
    assert fields["assignee"] > len(tickets)  # taken, plus some reassignments
    assert fields["team"] > len(tickets) * 0.9
    reopens = events.filter(field="status", old=Status.SOLVED, new=Status.OPEN).count()
    assert 0 < reopens < len(tickets) / 2
    assert events.filter(field="status", new=Status.ON_HOLD).exists()
    internal = Message.objects.filter(ticket__in=tickets, public=False)
    assert internal.exists()
    assert all(m.author_user is not None and m.author_user.role == Role.AGENT for m in internal)
    # First replies come minutes to hours after arrival (business hours permitting), not instantly.
    first_replies = []
    for ticket in tickets[:200]:
        reply = ticket.messages.filter(public=True, author_user__isnull=False).exclude(author_user__role=Role.CUSTOMER)
        first = reply.order_by("created_at").first()
        if first is not None and ticket.channel != "phone":
            first_replies.append((first.created_at - ticket.created_at).total_seconds())
    first_replies.sort()
    median = first_replies[len(first_replies) // 2]
    assert 5 * 60 < median < 3 * 86400


# --- exactly what the actions would have written --------------------------------------------------


def _check_ticket(ticket: Ticket, data: _Rows, roles: dict[int, str], members: set[tuple[int, int]]) -> None:
    events = data.events[ticket.pk]
    assert [e.pk for e in events] == sorted(e.pk for e in events), "ids follow time"
    created = events[0]
    assert created.field == "created"
    assert created.created_at == ticket.created_at
    state: dict[str, Any] = dict(created.new or {})
    assert set(state) == CREATED_KEYS
    for name in ("subject", "type", "channel"):
        assert state[name] == getattr(ticket, name)
    assert (state["requester"], state["organization"]) == (ticket.requester_id, ticket.organization_id)
    assert state["custom_fields"] == ticket.custom_fields == {}
    assert state["ccs"] == sorted(data.ccs[ticket.pk])

    messages = {m.pk: m for m in data.messages[ticket.pk]}
    seen_messages = []
    solved_at = closed_at = None
    for index, event in enumerate(events[1:], start=1):
        assert (event.actor_user_id is None) or (event.actor_customer_id is None)
        if event.field == "message":
            assert event.message_id is not None
            message = messages[event.message_id]
            seen_messages.append(message.pk)
            role = "customer" if message.author_user_id is None else roles[message.author_user_id]
            assert event.new == {"id": message.pk, "public": message.public, "author_role": role, "attachments": 0}
            assert (event.actor_user_id, event.actor_customer_id) == (
                message.author_user_id,
                message.author_customer_id,
            )
            assert (event.created_at, event.via) == (message.created_at, message.via)
            assert message.body_html == text_to_html(message.body_text)
            following = events[index + 1] if index + 1 < len(events) else None
            if message.author_customer_id:
                assert message.author_customer_id == ticket.requester_id
                assert message.public
                if state["status"] in REOPENED_BY_CUSTOMER:
                    # DOMAIN.md: a customer's reply moves pending, on-hold and solved back to open.
                    assert following is not None
                    assert (following.field, following.old, following.new) == ("status", state["status"], "open")
                    assert following.actor_customer_id == message.author_customer_id
                    assert following.created_at == event.created_at
            elif message.public and state["status"] == Status.NEW:
                # An agent's public reply opens a new ticket (or sets the status it was sent with).
                assert following is not None
                assert (following.field, following.old) == ("status", Status.NEW)
            continue
        assert event.field in REPLAYED, event.field
        assert event.old == state[event.field], (ticket.pk, event.field, event.old, state[event.field])
        assert event.new != event.old
        state[event.field] = event.new
        if event.field == "status":
            if event.new == Status.SOLVED:
                solved_at = event.created_at
            elif event.new == Status.CLOSED:
                closed_at = event.created_at
                assert event.old == Status.SOLVED
                assert (event.actor_user_id, event.actor_customer_id, event.via) == (None, None, Via.SYSTEM)
            else:
                solved_at = None
        if event.field == "assignee" and event.new is not None:
            assert roles[event.new] in (Role.AGENT, Role.MANAGER, Role.ADMIN)

    assert sorted(seen_messages) == sorted(messages), "one message event per message"
    assert state["status"] == ticket.status
    assert state["priority"] == ticket.priority
    assert state["assignee"] == ticket.assignee_id
    assert state["team"] == ticket.team_id
    assert state["tags"] == sorted(data.tags[ticket.pk])
    if ticket.assignee_id and ticket.team_id:
        assert (ticket.team_id, ticket.assignee_id) in members
    assert ticket.solved_at == solved_at
    assert ticket.closed_at == closed_at
    if ticket.status == Status.CLOSED:
        assert ticket.solved_at is not None
        assert ticket.closed_at is not None
        assert ticket.closed_at - ticket.solved_at >= datetime.timedelta(days=settings.AUTO_CLOSE_DAYS)
    if ticket.status == Status.SOLVED:
        assert ticket.solved_at is not None
        assert NOW - ticket.solved_at < datetime.timedelta(days=settings.AUTO_CLOSE_DAYS, hours=1)
    assert ticket.updated_at == events[-1].created_at <= NOW
    # Each action is one version; several actions may share a second, none is without an event.
    assert len({e.created_at for e in events}) <= ticket.version <= len(events)


def _assert_references_exist() -> None:
    """Every foreign key of the bulk-written tables points at a real row. Checked with queries:
    the bulk load skips the database's own checks, and a test transaction never commits, so
    deferred foreign keys would not be checked anyway."""
    models: list[type[Model]] = [Ticket, Message, TicketEvent, TicketTag, Ticket.ccs.through, Customer, CustomerEmail]
    for model in models:
        for field in model._meta.concrete_fields:
            if not isinstance(field, ForeignKey):
                continue
            parent = field.related_model
            assert isinstance(parent, type)
            dangling = (
                model._default_manager.filter(**{f"{field.attname}__isnull": False})
                .exclude(**{f"{field.attname}__in": parent._default_manager.values("pk")})
                .count()
            )
            assert dangling == 0, f"{model.__name__}.{field.name}"


def test_every_ticket_replays_from_its_events():
    result = _generate(400, days=45, batch_size=150)
    roles = dict(User.objects.values_list("pk", "role"))
    members = set(TeamMembership.objects.values_list("team_id", "user_id"))
    data = _Rows(result)
    tickets = data.tickets
    assert len(tickets) == 400
    for ticket in tickets:
        _check_ticket(ticket, data, roles, members)
    assert result.messages == Message.objects.filter(ticket__in=tickets).count()
    assert result.events == TicketEvent.objects.filter(ticket__in=tickets).exclude(cause="sla").count()
    _assert_references_exist()


def test_the_history_runs_under_the_demo_service_policies():
    result = _generate(300, days=30)
    tickets = _tickets(result)
    policies = {p.name: p for p in SlaPolicy.objects.all()}
    assert set(policies) == {"Urgent and high", "Standard"}
    assert DefaultCalendar.objects.get().calendar.name == "Support hours"
    # Every ticket is under the policy for its priority.
    for ticket in tickets:
        expected = "Urgent and high" if ticket.priority in ("urgent", "high") else "Standard"
        assert ticket.sla_policy_id == policies[expected].pk, ticket.pk
    # The history's breaches are recorded at their moments, and exactly what the live path would
    # record: recomputing ticket by ticket finds nothing new.
    findings = TicketEvent.objects.filter(ticket__in=tickets, field="sla")
    assert findings.filter(new__kind="breach").exists()
    assert not findings.exclude(cause="sla").exists()
    for event in findings[:50]:
        assert event.created_at >= event.ticket.created_at
    before = findings.count()
    for ticket in tickets[:60]:
        with transaction.atomic():
            sla.recompute(Ticket.objects.select_for_update().get(pk=ticket.pk), now=NOW)
    assert findings.count() == before
    # Every ticket has its metrics record, with the breaches counted.
    metrics = TicketMetrics.objects.filter(ticket__in=tickets)
    assert metrics.count() == len(tickets)
    assert metrics.filter(sla_breached__gt=0).exists()
    assert metrics.filter(solved_at__isnull=False).count() == sum(t.status in ("solved", "closed") for t in tickets)
    # Unsolved tickets with a running clock have a next breach and a wake-up.
    running = [t for t in tickets if t.status in UNSOLVED and t.sla_wake_at is not None]
    assert running
    assert all(t.sla_next_breach_at is not None for t in running)


def test_a_desk_with_its_own_policies_keeps_them():
    SlaPolicy.objects.create(name="Ours")
    _generate(20, days=5)
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Ours"]
    assert not BusinessCalendar.objects.exists()


def test_generated_tickets_match_what_the_actions_write():
    """The bulk rows have the shapes the actions produce: same created-event keys, the same JSON
    types for each field's old and new values, and the same timestamp storage."""
    result = _generate(150, days=20)
    generated = TicketEvent.objects.filter(ticket_id__gte=result.first_ticket)
    agent = User.objects.get(email=f"agent1@{DOMAIN}")
    team = agent.teams.first()
    other = User.objects.filter(teams=team, role=Role.AGENT).exclude(pk=agent.pk).first() or agent
    ticket = factories.ticket(channel="email", via=Via.EMAIL)
    actions.update_ticket(ticket, actor=None, via=Via.RULE, changes={"team": team, "tags": ["billing"]})
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": agent, "priority": "high"})
    actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Hello", status=Status.PENDING)
    actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Thanks")
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"assignee": other})
    by_action = TicketEvent.objects.filter(ticket=ticket)

    def shapes(events: Any) -> dict[str, set[tuple[str, str]]]:
        found: dict[str, set[tuple[str, str]]] = {}
        for e in events:
            new = sorted(e.new) if isinstance(e.new, dict) else type(e.new).__name__
            found.setdefault(e.field, set()).add((type(e.old).__name__, str(new)))
        return found

    ours, theirs = shapes(generated), shapes(by_action)
    for field, kinds in theirs.items():
        assert kinds <= ours[field] | {("NoneType", "NoneType")}, field
    with connection.cursor() as cursor:
        cursor.execute("SELECT created_at FROM tickets_ticketevent WHERE ticket_id = %s LIMIT 1", [result.first_ticket])
        ours_raw = cursor.fetchone()[0]
        cursor.execute("SELECT created_at FROM tickets_ticketevent WHERE ticket_id = %s LIMIT 1", [ticket.pk])
        theirs_raw = cursor.fetchone()[0]
    assert type(ours_raw) is type(theirs_raw)


def test_search_finds_generated_tickets():
    result = _generate(200, days=20)
    ticket = _tickets(result)[-1]
    word = max(ticket.subject.replace("-", " ").replace("'", " ").split(), key=len).strip("?!.,:")
    found = Ticket.objects.filter(pk__in=search.matching_ids(word, include_internal=False))
    assert ticket in found
    message = ticket.messages.filter(public=True).first()
    assert message is not None
    body_word = max(message.body_text.replace("'", " ").split(), key=len).strip("?!.,:()")
    assert ticket in Ticket.objects.filter(pk__in=search.matching_ids(body_word, include_internal=False))
    note = Message.objects.filter(ticket_id__gte=result.first_ticket, public=False).first()
    if note is not None:
        note_word = max(note.body_text.replace("'", " ").split(), key=len).strip("?!.,:@()")
        hits = Ticket.objects.filter(pk__in=search.matching_ids(f'"{note_word}"', include_internal=True))
        assert note.ticket in hits


# --- appending, interrupting, and the actions afterwards ----------------------------------------------


def test_rerun_appends_and_normal_actions_still_work():
    first = _generate(100, seed=1)
    second = _generate(100, seed=2)
    assert first.last_ticket is not None
    assert second.last_ticket is not None
    assert second.first_ticket == first.last_ticket + 1
    assert Ticket.objects.count() == 200
    assert User.objects.filter(email=f"admin@{DOMAIN}").count() == 1
    max_message = Message.objects.order_by("-pk").values_list("pk", flat=True)[0]
    max_event = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    # The id sequences were moved past the generated rows (PostgreSQL) or follow them (SQLite).
    ticket = factories.ticket()
    assert ticket.pk > second.last_ticket
    message = actions.add_message(ticket, actor=User.objects.get(email=f"agent1@{DOMAIN}"), via=Via.WEB, body_text="Hi")
    assert message.pk > max_message
    first_event = TicketEvent.objects.filter(ticket=ticket).order_by("pk").first()
    assert first_event is not None
    assert first_event.pk > max_event
    customer = factories.customer()
    assert customer.pk > 0


def test_interrupted_run_keeps_complete_batches_and_can_be_rerun(monkeypatch):
    original = generator.Writer.write_batch
    calls = {"n": 0}

    def interrupted(self: generator.Writer, batch: simulate.Batch) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            original(self, batch)  # part of the batch is written when Ctrl-C arrives
            raise KeyboardInterrupt
        original(self, batch)

    monkeypatch.setattr(generator.Writer, "write_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _generate(250, batch_size=50)
    assert Ticket.objects.count() == 100  # two whole batches; the third rolled back
    for ticket in Ticket.objects.all():
        assert ticket.events.filter(field="created").count() == 1
    monkeypatch.undo()
    result = _generate(250, batch_size=50)
    assert result.first_ticket == Ticket.objects.order_by("pk").values_list("pk", flat=True)[100]
    assert Ticket.objects.count() == 350


# --- the command ----------------------------------------------------------------------------------------


def test_command_generates_and_prints_signins():
    assert demo.signins() == []
    out = io.StringIO()
    call_command("demo_data", "--tickets", "60", "--days", "10", "--seed", "3", stdout=out)
    assert Ticket.objects.count() == 60
    text = out.getvalue()
    assert "Created 60 tickets" in text
    assert f"admin@{DOMAIN}" in text
    assert PASSWORD in text
    accounts = demo.signins()
    assert accounts[0] == (Role.ADMIN, f"admin@{DOMAIN}", PASSWORD)
    roles = Counter(role for role, _, _ in accounts)
    assert roles[Role.MANAGER] == 2
    assert 12 <= roles[Role.AGENT] <= 30
    assert roles[Role.COLLABORATOR] == 1
    assert roles[Role.CUSTOMER] >= 1
    admin = User.objects.get(email=f"admin@{DOMAIN}")
    assert admin.check_password(PASSWORD)
    customer_user = User.objects.get(email=f"customer1@{DOMAIN}")
    assert customer_user.customer.tickets.exists()


def test_if_empty_does_nothing_when_there_are_users():
    factories.user(Role.ADMIN)
    out = io.StringIO()
    call_command("demo_data", "--if-empty", "--tickets", "50", stdout=out)
    assert Ticket.objects.count() == 0
    assert "already has users" in out.getvalue()


def test_if_empty_generates_on_an_empty_database():
    call_command("demo_data", "--if-empty", "--tickets", "20", "--days", "5", stdout=io.StringIO())
    assert Ticket.objects.count() == 20


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--tickets", "-1"], "--tickets"),
        (["--tickets", "lots"], "--tickets"),
        (["--tickets", "1.5"], "--tickets"),
        (["--days", "0"], "--days"),
        (["--days", "x"], "--days"),
        (["--seed", "abc"], "--seed"),
    ],
)
def test_bad_arguments_are_usage_errors(args, named):
    with pytest.raises(CommandError) as caught:
        call_command("demo_data", *args, stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert str(caught.value).startswith(named)
    assert "\n" not in str(caught.value)
    assert Ticket.objects.count() == 0


def test_bad_arguments_exit_with_status_2_on_the_command_line():
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="tests.settings")
    run = subprocess.run(
        [sys.executable, str(root / "manage.py"), "demo_data", "--days", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert "--days" in run.stderr


def test_zero_tickets_still_creates_the_desk():
    result = _generate(0)
    assert result.tickets == 0
    assert Ticket.objects.count() == 0
    assert demo.signins()


# --- pure parts -----------------------------------------------------------------------------------------------


def test_time_format_matches_what_django_stores():
    fmt = simulate.TimeFormat()
    for t in (0, 86399, 1_772_452_800, 1_772_452_801):
        value = datetime.datetime.fromtimestamp(t, tz=datetime.UTC)
        assert fmt(t) == str(value.replace(tzinfo=None))
    assert simulate.TimeFormat("+00:00")(86400) == "1970-01-02 00:00:00+00:00"


def test_fast_html_equals_text_to_html():
    rng = random.Random(5)
    for _ in range(200):
        parts = [rng.choice(vocabulary.AGENT_GREETINGS), rng.choice(vocabulary.CUSTOMER_CONTEXT) or "x"]
        text = "\n\n".join([*parts, "Line one <b> & 'quoted' \"text\"\nline two"]).format_map(
            {"first": "Zoë", "agent": "O'Brien", "plan": "Team"}
        )
        assert simulate.fast_html(text) == text_to_html(text)


def test_the_demo_history_is_never_emailed():
    """The newest generated replies are history, not news: the mail sweep (which emails replies
    whose signal was lost) must find nothing to send after demo-data."""
    from deskpilot.mail import outbound, tasks
    from deskpilot.mail.models import DeliveryStatus, OutboundMail

    # A weekday afternoon, so the last hour of the demo history is busy whatever the time of the
    # test run (at night the generated desk is quiet and there might be nothing to check).
    with time_machine.travel(datetime.datetime(2026, 11, 17, 15, 30, tzinfo=datetime.UTC), tick=True):
        call_command("demo_data", "--tickets", "600", "--days", "1", "--seed", "5", stdout=io.StringIO())
        assert outbound.pending_replies() == []
        assert tasks.sweep() == 0
    assert not OutboundMail.objects.exclude(status=DeliveryStatus.SKIPPED).exists()
    recorded = OutboundMail.objects.filter(status=DeliveryStatus.SKIPPED)
    assert recorded.exists(), "a busy afternoon leaves replies within the last hour"
    assert all(entry["reason"] == "demo data: history, never emailed" for m in recorded for entry in m.skipped)


def test_the_desk_has_customer_feedback_as_the_live_desk_would_record_it():
    from deskpilot.analytics.models import DailyRollup
    from deskpilot.demo import feedback as demo_feedback
    from deskpilot.feedback import scores
    from deskpilot.feedback.models import Invitation, InvitationStatus, Survey, SurveyKind, SurveyResponse

    _generate(600, days=60)
    csat = Survey.objects.get(kind=SurveyKind.CSAT)
    assert Survey.objects.filter(kind=SurveyKind.NPS).count() == 1
    sent = Invitation.objects.filter(kind=SurveyKind.CSAT, status=InvitationStatus.SENT).select_related("ticket")
    answers = SurveyResponse.objects.filter(invitation__kind=SurveyKind.CSAT).select_related("invitation__ticket")
    assert sent.count() > 50
    assert 0.2 < answers.count() / sent.count() < 0.45
    for invitation in sent:
        ticket = invitation.ticket
        assert ticket is not None
        assert ticket.solved_at is not None
        assert invitation.sent_at == ticket.solved_at + datetime.timedelta(minutes=csat.delay_minutes)
        assert invitation.sent_at < NOW
        assert (invitation.customer_id, invitation.team_id, invitation.agent_id) == (
            ticket.requester_id,
            ticket.team_id,
            ticket.assignee_id,
        )
    # The desk's throttle: a customer is asked at most once in 30 days.
    by_customer: dict[int, list[datetime.datetime]] = {}
    for customer, at in sent.values_list("customer_id", "sent_at"):
        assert at is not None
        by_customer.setdefault(customer, []).append(at)
    for times in by_customer.values():
        times.sort()
        assert all(b - a >= demo_feedback.THROTTLE for a, b in itertools.pairwise(times))
    # Answers after the mail and before now; some with a comment.
    assert all(a.invitation.sent_at is not None and a.invitation.sent_at < a.answered_at < NOW for a in answers)
    assert any(a.comment for a in answers)
    # Each answer is on its ticket's record, and the rollups count them as the live path would.
    rated = {
        pk: bool(good) for pk, good in TicketMetrics.objects.exclude(csat_good=None).values_list("pk", "csat_good")
    }
    assert rated == {a.invitation.ticket_id: scores.csat_good(csat.scale, a.score) for a in answers}
    totals = DailyRollup.objects.filter(dimension="all")
    assert sum(r.csat_good for r in totals) == sum(rated.values())
    assert sum(r.csat_bad for r in totals) == len(rated) - sum(rated.values())
    # A reopened or slow ticket draws lower scores.
    rough = {
        pk
        for pk, reopens, resolution in TicketMetrics.objects.values_list("pk", "reopens", "full_resolution_time")
        if reopens or (resolution or 0) > 3 * 24 * 3600
    }
    rough_scores = [a.score for a in answers if a.invitation.ticket_id in rough]
    smooth_scores = [a.score for a in answers if a.invitation.ticket_id not in rough]
    assert rough_scores
    assert smooth_scores
    assert sum(rough_scores) / len(rough_scores) < sum(smooth_scores) / len(smooth_scores)
    # One NPS round, answered 0-10.
    nps = SurveyResponse.objects.filter(invitation__kind=SurveyKind.NPS)
    assert nps.exists()
    assert all(0 <= s <= 10 for s in nps.values_list("score", flat=True))
    # A second run surveys only what has no invitation yet.
    before = Invitation.objects.count()
    assert demo_feedback.generate(seed=7, now=NOW).invitations == 0
    assert Invitation.objects.count() == before


def test_the_bulk_load_leaves_the_configuration_triggers_on():
    """PostgreSQL's batches skip triggers while they write tickets; the demo SLA policies written
    after them, in the same transaction here, must still reach the configuration change log, or
    every process would keep serving the policies it had before."""
    from deskpilot.policies import config_version
    from deskpilot.policies.models import ConfigChange

    _generate(40, days=5)
    assert SlaPolicy.objects.exists()
    assert ConfigChange.objects.exists()
    assert config_version.stamp()[0] == ConfigChange.objects.count()
