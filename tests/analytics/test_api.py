"""/api/v1/metrics/tickets and /api/v1/metrics/daily (deskpilot.analytics.api): exact values for
hand-built tickets, filters, paging, CSV against JSON, who may call them, the 422s, and the
queries each costs."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
import time_machine

from deskpilot.accounts.models import Role, TokenScope
from deskpilot.analytics import rollups
from deskpilot.analytics.api import DAILY_COLUMNS, TICKET_COLUMNS
from deskpilot.analytics.models import TicketMetrics
from deskpilot.tickets.models import Channel, Priority, Via
from tests import factories
from tests.analytics.scenarios import HOUR, MON, at, two_days
from tests.api.conftest import Api, caller, errors_of

pytestmark = pytest.mark.django_db


def manager() -> Api:
    return caller(Role.MANAGER)


def all_pages(api: Api, params: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        response = api.get("/metrics/tickets", {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def csv_of(response: Any) -> tuple[list[dict[str, str]], list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return [dict(zip(header, row, strict=True)) for row in reader], header


def as_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- /metrics/tickets ---------------------------------------------------------------------------


def test_ticket_rows_have_the_hand_computed_values() -> None:
    t1, t2, _ = two_days()
    rows = {row["ticket_id"]: row for row in all_pages(manager(), {})}
    assert set(rows) == {t1.pk, t2.pk}
    one, two = rows[t1.pk], rows[t2.pk]
    assert list(one) == list(TICKET_COLUMNS)
    assert one["created_at"] == "2026-03-02T09:00:00Z"
    assert one["solved_at"] == one["first_solved_at"] == "2026-03-02T14:00:00Z"
    assert (one["first_reply_time"], one["first_resolution_time"], one["full_resolution_time"]) == (
        HOUR,
        5 * HOUR,
        5 * HOUR,
    )
    assert (two["first_reply_time"], two["full_resolution_time"]) == (1.5 * HOUR, 3 * HOUR)
    assert (one["replies"], one["reopens"], one["one_touch"], one["status"]) == (1, 0, True, "solved")
    assert (one["channel"], one["priority"], one["team_id"]) == (t1.channel, t1.priority, None)
    # Every column is the stored record's value (business seconds and all), nothing recomputed.
    record = TicketMetrics.objects.get(pk=t1.pk)
    for name in ("first_reply_time_business", "full_resolution_time_business", "customer_messages", "sla_met"):
        assert one[name] == getattr(record, name)


def test_sla_outcomes_are_flattened_per_target_and_state() -> None:
    t1, _, _ = two_days()
    TicketMetrics.objects.filter(pk=t1.pk).update(
        sla_outcomes={"first_reply": {"met": 1}, "total_resolution": {"breached": 1, "running": 0}}
    )
    row = next(r for r in all_pages(manager(), {}) if r["ticket_id"] == t1.pk)
    assert (row["sla_first_reply_met"], row["sla_first_reply_breached"]) == (1, 0)
    assert (row["sla_total_resolution_met"], row["sla_total_resolution_breached"]) == (0, 1)
    assert row["sla_next_reply_running"] == 0


def test_filters() -> None:
    t1, t2, agent = two_days()
    team = factories.team(members=[agent])
    with time_machine.travel(at(9, day=3), tick=False):
        t3 = factories.ticket(actor=agent, team=team, assignee=agent, priority=Priority.URGENT, via=Via.EMAIL)
    api = manager()

    def ids(**params: Any) -> set[int]:
        return {row["ticket_id"] for row in all_pages(api, params)}

    assert ids() == {t1.pk, t2.pk, t3.pk}
    # A date as the upper bound includes its whole day; a datetime is exact.
    assert ids(created_to="2026-03-02") == {t1.pk, t2.pk}
    assert ids(created_from="2026-03-02T22:00:00+00:00", created_to="2026-03-03") == {t2.pk}
    assert ids(created_from="2026-03-02T22:00:00") == {t2.pk, t3.pk}  # no offset: UTC
    assert ids(created_from="2026-03-02T10:00:00Z", created_to="2026-03-02") == {t2.pk}
    assert ids(solved_from="2026-03-03") == {t2.pk}
    assert ids(solved_to="2026-03-02T14:00:00Z") == {t1.pk}
    assert ids(team=str(team.pk)) == {t3.pk}
    assert ids(team="none") == {t1.pk, t2.pk}
    assert ids(assignee=f"{agent.pk}") == {t3.pk}
    assert ids(priority="urgent") == {t3.pk}
    assert t3.channel == Channel.EMAIL != t1.channel
    assert ids(channel=f"{Channel.EMAIL},{Channel.WEB}") == {t3.pk}
    assert ids(status="solved") == {t1.pk, t2.pk}
    assert ids(status="solved", created_from="2026-03-02T12:00:00Z") == {t2.pk}


def test_paging_covers_every_row_once() -> None:
    tickets = [factories.ticket() for _ in range(7)]
    api = manager()
    first = api.get("/metrics/tickets", {"limit": 3}).json()
    assert len(first["items"]) == 3
    assert first["next_cursor"]
    rows = all_pages(api, {"limit": 3})
    assert [r["ticket_id"] for r in rows] == sorted(t.pk for t in tickets)


def test_csv_has_the_same_rows_and_values_as_the_json() -> None:
    two_days()
    factories.ticket(priority=Priority.HIGH)
    api = manager()
    items = all_pages(api, {"limit": 1})
    rows, header = csv_of(api.get("/metrics/tickets", {"format": "csv"}))
    assert header == list(TICKET_COLUMNS)
    assert rows == [{name: as_cell(item[name]) for name in TICKET_COLUMNS} for item in items]
    # The Accept header chooses CSV too, and filters apply to it.
    by_accept, _ = csv_of(api.get("/metrics/tickets", {"priority": "high"}, headers={"Accept": "text/csv"}))
    assert [r["priority"] for r in by_accept] == ["high"]


def test_csv_streams_past_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskpilot.analytics.api.CSV_CHUNK", 2)
    tickets = [factories.ticket() for _ in range(5)]
    api = manager()
    rows, _ = csv_of(api.get("/metrics/tickets", {"format": "csv"}))
    assert [int(r["ticket_id"]) for r in rows] == [t.pk for t in tickets]
    # A JSON page's cursor resumes the export after that page.
    cursor = api.get("/metrics/tickets", {"limit": 2}).json()["next_cursor"]
    rest, _ = csv_of(api.get("/metrics/tickets", {"format": "csv", "cursor": cursor}))
    assert [int(r["ticket_id"]) for r in rest] == [t.pk for t in tickets[2:]]


# --- /metrics/daily -----------------------------------------------------------------------------


def test_daily_counts_and_percentiles() -> None:
    two_days()
    api = manager()
    body = api.get("/metrics/daily", {"from": "2026-03-02", "to": "2026-03-04"}).json()
    days = body["items"]
    assert [d["day"] for d in days] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert list(days[0]) == list(DAILY_COLUMNS)
    assert [d["created"] for d in days] == [2, 0, 0]
    assert [d["solved"] for d in days] == [1, 1, 0]
    assert [d["replies"] for d in days] == [1, 1, 0]
    # Two resolutions, 5 h (bucket [4 h, 8 h)) and 3 h (bucket [2 h, 4 h)): over the period the
    # median is the top of the lower bucket and p90 is 80 % into the upper one (test_rollups).
    assert body["period"]["full_resolution_time_median"] == 4 * HOUR
    assert body["period"]["full_resolution_time_p90"] == round(4 * HOUR + 0.8 * 4 * HOUR)
    # Per day, the day's own histogram; none on a day without resolutions.
    series = rollups.rollup_series(MON.date(), MON.date() + datetime.timedelta(days=2))
    for day, found in zip(series, days, strict=True):
        for metric in ("first_reply_time", "full_resolution_time_business"):
            median, p90 = day.median_and_p90(metric)
            assert found[f"{metric}_median"] == (None if median is None else round(median))
            assert found[f"{metric}_p90"] == (None if p90 is None else round(p90))
    assert days[2]["full_resolution_time_median"] is None
    assert days[0]["first_reply_time_median"] is not None


def test_daily_dimension_and_keys() -> None:
    t1, _, agent = two_days()
    api = manager()

    def created(**params: Any) -> list[int]:
        response = api.get("/metrics/daily", {"from": "2026-03-02", "to": "2026-03-02", **params})
        assert response.status_code == 200, response.content
        return [d["created"] for d in response.json()["items"]]

    assert created(dimension="channel", keys=t1.channel) == [2]
    assert created(dimension="priority", keys="urgent") == [0]
    assert created(dimension="team", keys="none") == [2]
    assert created(dimension="team", keys="12345") == [0]
    assert created(dimension="agent") == [2]
    # Several keys are summed: whoever holds the tickets now, "none" and the agent cover them all.
    assert created(dimension="agent", keys=f"none,{agent.pk}") == [2]


def test_daily_csv_matches_the_json() -> None:
    two_days()
    api = manager()
    params = {"from": "2026-03-01", "to": "2026-03-04"}
    items = api.get("/metrics/daily", params).json()["items"]
    rows, header = csv_of(api.get("/metrics/daily", {**params, "format": "csv"}))
    assert header == list(DAILY_COLUMNS)
    assert rows == [{name: as_cell(item[name]) for name in DAILY_COLUMNS} for item in items]


# --- who may call them --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/metrics/tickets", "/metrics/daily?from=2026-03-02&to=2026-03-02"])
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.MANAGER, 200),
        (Role.AGENT, 403),
        (Role.COLLABORATOR, 403),
        (Role.CUSTOMER, 403),
    ],
)
def test_roles(path: str, role: str, status: int) -> None:
    response = caller(role).get(path)
    assert response.status_code == status, response.content
    if status == 403:
        assert errors_of(response) == {}
        assert "managers" in response.json()["detail"]


def test_anonymous_gets_401_and_a_read_token_is_enough() -> None:
    assert Api(None).get("/metrics/tickets").status_code == 401
    assert Api(None).get("/metrics/daily", {"from": "2026-03-02", "to": "2026-03-02"}).status_code == 401
    reader = caller(Role.MANAGER, scope=TokenScope.READ)
    assert reader.get("/metrics/tickets").status_code == 200
    assert reader.get("/metrics/daily", {"from": "2026-03-02", "to": "2026-03-02"}).status_code == 200


# --- bad parameters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_to": "2026-02-30"}, "created_to"),
        ({"solved_from": "2026-03-05", "solved_to": "2026-03-04"}, "solved_from"),
        ({"created_from": "2026-03-02T10:00Z", "created_to": "2026-03-02T09:00Z"}, "created_from"),
        ({"team": "sales"}, "team"),
        ({"assignee": "-1"}, "assignee"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": "high,asap"}, "priority"),
        ({"status": "done"}, "status"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJjcmVhdGVkX2F0IixmYWxzZSxbMSwxXV0"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_ticket_parameters_422(params: dict[str, Any], field: str) -> None:
    response = manager().get("/metrics/tickets", params)
    assert response.status_code == 422, response.content
    assert field in errors_of(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-03-02"}, "from"),
        ({"from": "2026-03-02"}, "to"),
        ({"from": "03/02/2026", "to": "2026-03-02"}, "from"),
        ({"from": "2026-03-05", "to": "2026-03-04"}, "from"),
        ({"from": "2025-01-01", "to": "2026-03-02"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-02", "dimension": "region"}, "dimension"),
        ({"from": "2026-03-02", "to": "2026-03-02", "keys": "5"}, "keys"),
        ({"from": "2026-03-02", "to": "2026-03-02", "dimension": "team", "keys": "sales"}, "keys"),
        ({"from": "2026-03-02", "to": "2026-03-02", "dimension": "channel", "keys": "pigeon"}, "keys"),
        ({"from": "2026-03-02", "to": "2026-03-02", "format": "pdf"}, "format"),
    ],
)
def test_daily_parameters_422(params: dict[str, Any], field: str) -> None:
    response = manager().get("/metrics/daily", params)
    assert response.status_code == 422, response.content
    assert field in errors_of(response)


def test_the_longest_span_is_accepted() -> None:
    response = manager().get("/metrics/daily", {"from": "2025-01-28", "to": "2026-03-03"})
    assert response.status_code == 200, response.content
    assert len(response.json()["items"]) == 400


# --- queries ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 30])
def test_query_counts_do_not_grow_with_the_page(size: int, django_assert_num_queries: Any) -> None:
    agent = factories.user(Role.AGENT)
    team = factories.team(members=[agent])
    for i in range(size):
        factories.ticket(actor=agent, team=team if i % 2 else None, assignee=agent if i % 3 else None)
    api = manager()
    api.get("/metrics/tickets")  # the token's last_used_at write happens once, here
    # token, one page
    with django_assert_num_queries(2):
        assert len(api.get("/metrics/tickets", {"limit": 100}).json()["items"]) == size
    # token, one chunk of rows
    with django_assert_num_queries(2):
        rows, _ = csv_of(api.get("/metrics/tickets", {"format": "csv"}))
    assert len(rows) == size
    # token, the rollup rows of the range
    with django_assert_num_queries(2):
        api.get("/metrics/daily", {"from": "2026-01-01", "to": "2026-12-31", "dimension": "team"})


def test_every_column_of_the_record_is_exported() -> None:
    """The export's column order is written out for BI tools; a column added to the record must
    be added to it too (the per-target outcomes come flattened, one column per target and state)."""
    stored = {f.attname for f in TicketMetrics._meta.concrete_fields} - {"sla_outcomes"}
    assert stored <= set(TICKET_COLUMNS)
