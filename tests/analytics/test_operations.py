"""The managers' "Operations, live" page (deskpilot.analytics.operations and its views): exact
figures for a hand-built help desk, seen by a manager in Paris half an hour after their midnight
(23:30 UTC), drill-down links that list exactly the counted tickets, a fixed number of queries,
permissions, escaping and the htmx fragment."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from deskpilot.accounts.models import Availability, Role, Team, User
from deskpilot.analytics import operations
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, Via
from tests import factories

pytestmark = pytest.mark.django_db

# 00:30 on Friday 16 January in Paris (UTC+1): "today" there began at 23:00 UTC on the 15th.
NOW = datetime.datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HOUR = datetime.timedelta(hours=1)
MINUTE = datetime.timedelta(minutes=1)
EVIL = "<script>alert(1)</script> refund"


@contextmanager
def at(moment: datetime.datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


@dataclass
class Desk:
    manager: User
    billing: Team
    shipping: Team
    ann: User  # online, capacity 3, in Billing
    bob: User  # online, in Shipping
    tickets: dict[str, Ticket]


def _agent(name: str, *, online: bool, capacity: int | None = None) -> User:
    agent = factories.user(Role.AGENT, name=name)
    User.objects.filter(pk=agent.pk).update(
        availability=Availability.ONLINE if online else Availability.OFFLINE, capacity=capacity
    )
    agent.refresh_from_db()
    return agent


@pytest.fixture
def desk() -> Desk:
    manager = factories.user(Role.MANAGER, name="Mia Manager")
    User.objects.filter(pk=manager.pk).update(time_zone="Europe/Paris")
    manager.refresh_from_db()
    ann = _agent("Ann", online=True, capacity=3)
    bob = _agent("Bob", online=True)
    _agent("Olga Offline", online=False)
    billing = factories.team(name="Billing", members=[ann])
    shipping = factories.team(name="Shipping", members=[bob])
    alice = factories.customer(name="Alice")
    t: dict[str, Ticket] = {}

    # t1: nobody has answered for three days: the longest waiting customer.
    with at(NOW - 72 * HOUR):
        t["t1"] = factories.ticket(requester=alice, subject="Oldest question")
    # t2: an agent wrote it down (phone), replied a day ago; the customer wrote twice since.
    with at(NOW - 48 * HOUR):
        t["t2"] = factories.ticket(
            actor=ann, requester=alice, team=billing, assignee=ann, priority=Priority.URGENT, channel="phone"
        )
    # t5: on hold, never answered.
    with at(NOW - 30 * HOUR):
        t["t5"] = factories.ticket(actor=ann, requester=alice, team=shipping, status=Status.ON_HOLD)
    with at(NOW - 24 * HOUR):
        actions.add_message(t["t2"], actor=ann, via=Via.WEB, body_text="We are on it.")
        # t3: pending: the agent waits for the customer.
        t["t3"] = factories.ticket(
            actor=bob, requester=alice, team=shipping, assignee=bob, priority=Priority.HIGH, status=Status.PENDING
        )
    with at(NOW - 20 * HOUR):
        actions.add_message(t["t2"], actor=alice, via=Via.EMAIL, body_text="Any news?")
    with at(NOW - 10 * HOUR):
        actions.add_message(t["t2"], actor=alice, via=Via.EMAIL, body_text="Hello?")
        # t4: the customer asked, the agent answered last: nobody waits for a reply.
        t["t4"] = factories.ticket(requester=alice)
    with at(NOW - 5 * HOUR):
        actions.update_ticket(
            t["t4"],
            actor=ann,
            via=Via.WEB,
            changes={"team": billing, "assignee": ann, "priority": Priority.HIGH, "status": Status.OPEN},
        )
        actions.add_message(t["t4"], actor=ann, via=Via.WEB, body_text="Done, anything else?")
        t["t6"] = factories.ticket(requester=alice, subject="Solved after midnight")
        t["t7"] = factories.ticket(requester=alice, subject="Solved before midnight")
    # An escalation yesterday evening in Paris (22:45 UTC): not today's.
    with at(NOW - 45 * MINUTE):
        actions.set_escalation(t["t4"], actor=ann, via=Via.WEB, level="tier2", reason="Yesterday")
    # Solved at 23:50 Paris (yesterday) and at 00:10 (today).
    with at(NOW - 40 * MINUTE):
        actions.update_ticket(t["t7"], actor=ann, via=Via.WEB, changes={"status": Status.SOLVED})
    # t9: created at 23:55 Paris yesterday; its subject is the customer's own text.
    with at(NOW - 35 * MINUTE):
        t["t9"] = factories.ticket(requester=alice, subject=EVIL)
    # t8: created at 00:05 Paris, today.
    with at(NOW - 25 * MINUTE):
        t["t8"] = factories.ticket(actor=ann, requester=alice, team=billing, priority=Priority.LOW)
    with at(NOW - 20 * MINUTE):
        actions.update_ticket(t["t6"], actor=ann, via=Via.WEB, changes={"status": Status.SOLVED})
        # Down again today: not an escalation.
        actions.set_escalation(t["t4"], actor=ann, via=Via.WEB, level=None, reason="Handled")
    with at(NOW - 10 * MINUTE):
        actions.set_escalation(t["t2"], actor=ann, via=Via.WEB, level="manager", reason="Angry customer")

    # The SLA clocks, set directly: these tests are about reading them, not about the policies.
    for name, due in {
        "t2": NOW - 2 * HOUR,  # breached longest ago
        "t4": NOW - 10 * MINUTE,  # breached
        "t5": NOW + 30 * MINUTE,  # at risk
        "t3": NOW + 59 * MINUTE,  # at risk
        "t1": NOW + 2 * HOUR,  # later: neither
        "t6": NOW - HOUR,  # solved: its clocks no longer count
    }.items():
        Ticket.objects.filter(pk=t[name].pk).update(sla_next_breach_at=due)
    return Desk(manager=manager, billing=billing, shipping=shipping, ann=ann, bob=bob, tickets=t)


def _ids(desk: Desk, *names: str) -> list[int]:
    return [desk.tickets[n].pk for n in names]


def _figures() -> operations.Operations:
    with at(NOW):
        return operations.operations(zone=PARIS)


def test_backlog_counts_by_status_team_and_priority(desk: Desk) -> None:
    backlog = _figures().backlog
    # t1, t8, t9 new; t2, t4 open; t3 pending; t5 on hold; t6, t7 solved are not backlog.
    assert backlog.total == 7
    assert [(c.key, c.count) for c in backlog.by_status] == [("new", 3), ("open", 2), ("pending", 1), ("on_hold", 1)]
    assert [(c.label, c.count) for c in backlog.by_team] == [("Billing", 3), ("Shipping", 2), ("No team", 2)]
    assert [(c.key, c.count) for c in backlog.by_priority] == [("urgent", 1), ("high", 2), ("normal", 3), ("low", 1)]
    assert backlog.unassigned == 4  # t1, t5, t8, t9


def test_sla_at_risk_and_breached(desk: Desk) -> None:
    sla = _figures().sla
    assert (sla.at_risk, sla.breached) == (2, 2)
    assert [line.id for line in sla.worst_breached] == _ids(desk, "t2", "t4")
    assert [line.id for line in sla.worst_at_risk] == _ids(desk, "t5", "t3")
    assert sla.worst_breached[0].at == NOW - 2 * HOUR
    assert sla.worst_breached[0].assignee_name == "Ann"


def test_oldest_waiting_customers(desk: Desk) -> None:
    waiting = _figures().waiting
    # t3 is pending and t4 was answered last: neither waits. t2 waits since the first of the two
    # messages after the agent's reply; the agent's own opening message was no reply.
    assert [(line.id, line.at) for line in waiting] == [
        (desk.tickets["t1"].pk, NOW - 72 * HOUR),
        (desk.tickets["t5"].pk, NOW - 30 * HOUR),
        (desk.tickets["t2"].pk, NOW - 20 * HOUR),
        (desk.tickets["t9"].pk, NOW - 35 * MINUTE),
        (desk.tickets["t8"].pk, NOW - 25 * MINUTE),
    ]


def test_agents_online_with_their_load(desk: Desk) -> None:
    agents = _figures().agents
    # Olga is offline; the manager's availability is offline by default.
    assert [(a.name, a.open_tickets, a.load, a.capacity, a.full) for a in agents] == [
        ("Ann", 2, 3 + 2, 3, True),  # t2 urgent (3), t4 high (2): routing's default weights
        ("Bob", 1, 2, None, False),  # t3 high
    ]


def test_today_by_hour_in_the_managers_zone(desk: Desk) -> None:
    today = _figures().today
    assert today.start == datetime.datetime(2026, 1, 16, tzinfo=PARIS)
    assert len(today.hours) == 24
    assert today.hours[0].label == "00:00"
    # Only t8 (00:05) and t6's solve (00:10) fall after the Paris midnight; t9 (23:55) and t7's
    # solve (23:50) were yesterday there, though the same UTC day.
    assert (today.hours[0].created, today.hours[0].solved) == (1, 1)
    assert (today.created, today.solved) == (1, 1)


def test_escalations_today_count_only_upward_moves_since_midnight(desk: Desk) -> None:
    today = _figures().today
    assert today.escalations == 1
    assert [(e.ticket_id, e.level, e.reason) for e in today.recent_escalations] == [
        (desk.tickets["t2"].pk, "manager", "Angry customer")
    ]


def test_a_day_when_the_clocks_go_back_has_25_hours() -> None:
    start, end = operations.day_bounds(datetime.datetime(2026, 10, 25, 12, tzinfo=UTC), PARIS)
    # Python subtracts same-zone datetimes on the wall clock: compare the instants.
    assert end.astimezone(UTC) - start.astimezone(UTC) == 25 * HOUR
    assert len(operations._hour_starts(start, end, PARIS)) == 25


# --- the page ----------------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _row_ids(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-row-link="/tickets/(\d+)"', html)}


def test_every_count_drills_down_to_exactly_its_tickets(desk: Desk) -> None:
    client = _client(desk.manager)
    with at(NOW):
        page = client.get(reverse("analytics:operations"))
    assert page.status_code == 200
    context = page.context
    unsolved = Ticket.objects.filter(status__in=[s.value for s in operations.BACKLOG_STATUSES])
    expected: list[tuple[str, int, set[int]]] = [
        (context["backlog_url"], 7, set(unsolved.values_list("pk", flat=True)))
    ]
    expected.append(
        (context["unassigned_url"], 4, set(unsolved.filter(assignee__isnull=True).values_list("pk", flat=True)))
    )
    for count, url in context["by_status"]:
        expected.append((url, count.count, set(unsolved.filter(status=count.key).values_list("pk", flat=True))))
    for count, url in context["by_priority"]:
        expected.append((url, count.count, set(unsolved.filter(priority=count.key).values_list("pk", flat=True))))
    for count, url in context["by_team"]:
        expected.append((url, count.count, set(unsolved.filter(team_id=count.key).values_list("pk", flat=True))))
    for agent, url in context["agents"]:
        expected.append(
            (url, agent.open_tickets, set(unsolved.filter(assignee_id=agent.id).values_list("pk", flat=True)))
        )
    assert len(expected) == 2 + 4 + 4 + 3 + 2
    for url, count, ids in expected:
        assert url in page.content.decode()
        listed = _row_ids(client.get(url).content.decode())
        assert (url, len(listed)) == (url, count)
        assert listed == ids, url


def test_the_sla_link_lists_the_running_clocks_soonest_breach_first(desk: Desk) -> None:
    client = _client(desk.manager)
    with at(NOW):
        url = client.get(reverse("analytics:operations")).context["sla_url"]
        html = client.get(url).content.decode()
    order = [int(n) for n in re.findall(r'data-row-link="/tickets/(\d+)"', html)]
    assert order == _ids(desk, "t2", "t4", "t5", "t3", "t1")


def test_the_page_shows_the_figures_escaped_and_the_chart_data(desk: Desk) -> None:
    with at(NOW):
        response = _client(desk.manager).get(reverse("analytics:operations"))
    html = response.content.decode()
    assert 'data-figure="backlog">7<' in html
    assert 'data-figure="breached">2<' in html
    assert 'data-figure="escalations_today">1<' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; refund" in html
    assert "<script>alert(1)" not in html
    chart = json.loads(re.search(r'<script id="ops-chart-data" type="application/json">(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert chart["labels"][:2] == ["00:00", "01:00"]
    assert chart["created"] == [1] + [0] * 23
    assert chart["solved"] == [1] + [0] * 23
    # The page polls its fragment and loads the chart library.
    assert 'hx-get="/analytics/operations/live"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_the_live_endpoint_returns_just_the_fragment(desk: Desk) -> None:
    with at(NOW):
        response = _client(desk.manager).get(reverse("analytics:operations_live"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div id="ops-live"' in html
    assert "<html" not in html
    assert "<body" not in html
    assert "Operations, live</h1>" not in html
    assert 'data-figure="backlog">7<' in html


def _page_queries(client: Client) -> int:
    with at(NOW), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("analytics:operations")).status_code == 200
    return len(queries)


def test_a_fixed_number_of_queries_whatever_the_data(desk: Desk) -> None:
    client = _client(desk.manager)
    before = _page_queries(client)
    # The figures: backlog (2), SLA (3), waiting (1), agents (2), today (4); plus the session,
    # the user and the unread notifications every page reads.
    assert before == 12 + 3
    with at(NOW), CaptureQueriesContext(connection) as figures:
        operations.operations(zone=PARIS)
    assert len(figures) == 12
    more = factories.team(name="More")
    agents = [_agent(f"Extra {n}", online=True) for n in range(3)]
    for agent in agents:
        factories.team(members=[agent])
    with at(NOW - 10 * MINUTE):
        for _ in range(6):
            ticket = factories.ticket(actor=desk.ann, team=more, priority=Priority.HIGH)
            actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="More")
            actions.set_escalation(ticket, actor=desk.ann, via=Via.WEB, level="tier2", reason="More")
    Ticket.objects.filter(team=more).update(sla_next_breach_at=NOW - MINUTE)
    assert _page_queries(client) == before


@pytest.mark.parametrize("role", [Role.AGENT, Role.COLLABORATOR, Role.CUSTOMER])
def test_only_managers_and_admins_see_it(role: str) -> None:
    client = _client(factories.user(role))
    for name in ("analytics:operations", "analytics:operations_live"):
        assert client.get(reverse(name)).status_code == 404
    assert _client(factories.user(Role.ADMIN)).get(reverse("analytics:operations")).status_code == 200
    anonymous = Client().get(reverse("analytics:operations"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/signin?next=")


def test_the_sla_window_edges() -> None:
    """Due exactly now is breached; due exactly an hour from now is at risk; a second later is not."""
    with at(NOW - HOUR):
        tickets = [factories.ticket() for _ in range(3)]
    for ticket, due in zip(tickets, (NOW, NOW + HOUR, NOW + HOUR + datetime.timedelta(seconds=1)), strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(sla_next_breach_at=due)
    sla = operations.sla(NOW)
    assert (sla.breached, sla.at_risk) == (1, 1)
    assert [line.id for line in sla.worst_breached] == [tickets[0].pk]
    assert [line.id for line in sla.worst_at_risk] == [tickets[1].pk]


def test_the_tables_download_as_csv_and_xlsx(desk: Desk) -> None:
    client = _client(desk.manager)
    with at(NOW):
        data = operations.operations(zone=zoneinfo.ZoneInfo("UTC"), now=NOW)
        response = client.get(reverse("analytics:operations"), {"format": "csv", "table": "status"})
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [(r[0], int(r[1])) for r in rows[1:]] == [(c.label, c.count) for c in data.backlog.by_status]
        workbook = client.get(reverse("analytics:operations"), {"format": "xlsx"})
        assert workbook.status_code == 200
        assert load_workbook(io.BytesIO(workbook.content)).sheetnames[:3] == [
            "Backlog by status",
            "Backlog by priority",
            "Backlog by team",
        ]
        assert client.get(reverse("analytics:operations"), {"format": "pdf"}).status_code == 422
        assert client.get(reverse("analytics:operations"), {"format": "csv", "table": "x"}).status_code == 422
