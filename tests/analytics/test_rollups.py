"""Daily rollups (deskpilot.analytics.rollups) and the percentiles read from their histogram
buckets (deskpilot.analytics.histogram): hand-computed days, the error bound of the estimate, the
live path against the rebuild on demo data, and the queries each costs."""

from __future__ import annotations

import datetime
import io
import random
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from deskpilot.accounts.models import Role
from deskpilot.analytics import rollups
from deskpilot.analytics.histogram import BOUNDS, BUCKETS, bucket_of, exact_nearest_rank, histogram, percentile
from deskpilot.analytics.models import COUNTS, SLA_COLUMNS, DailyRollup, RollupDimension, TicketMetrics
from deskpilot.policies import sla
from deskpilot.policies.models import SlaPolicy, SlaTarget
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketType, Via
from tests import factories
from tests.analytics.scenarios import HOUR, MON, at, two_days


def day(n: int) -> datetime.date:
    return (MON + datetime.timedelta(days=n)).date()


def rollup(n: int, dimension: str = "all", key: str = "") -> DailyRollup | None:
    return DailyRollup.objects.filter(day=day(n), dimension=dimension, key=key).first()


def counts(n: int, dimension: str = "all", key: str = "") -> dict[str, int]:
    found = rollup(n, dimension, key)
    return {name: getattr(found, name) if found else 0 for name in COUNTS + SLA_COLUMNS}


def buckets(n: int, prefix: str, dimension: str = "all", key: str = "") -> dict[int, int]:
    """The non-empty buckets of one histogram, by bucket index."""
    found = rollup(n, dimension, key)
    if found is None:
        return {}
    return {i: getattr(found, f"{prefix}_b{i:02d}") for i in range(BUCKETS) if getattr(found, f"{prefix}_b{i:02d}")}


def snapshot() -> dict[tuple[Any, ...], tuple[int, ...]]:
    """Every rollup row with anything in it (the live path leaves emptied rows at zero; the
    rebuild does not write them)."""
    names = [f.attname for f in DailyRollup._meta.concrete_fields if f.attname not in ("id", "day", "dimension", "key")]
    out = {}
    for values in DailyRollup.objects.values_list("day", "dimension", "key", *names):
        if any(values[3:]):
            out[values[:3]] = values[3:]
    return out


# --- hand-computed days -------------------------------------------------------------------------


@pytest.mark.django_db
def test_two_tickets_across_two_days() -> None:
    """two_days(): t1 created Mon 09:00, reply 10:00, solved 14:00; t2 created Mon 23:00, reply
    Tue 00:30, solved Tue 02:00. First replies count on the creation day, resolutions on the solve
    day."""
    t1, _, _ = two_days()

    monday, tuesday = counts(0), counts(1)
    assert (monday["created"], monday["solved"], monday["replies"], monday["one_touch"]) == (2, 1, 1, 1)
    assert (tuesday["created"], tuesday["solved"], tuesday["replies"], tuesday["one_touch"]) == (0, 1, 1, 1)
    # First replies of 1 h and 1.5 h, both in [1 h, 2 h) on Monday; none on Tuesday.
    assert buckets(0, "frt") == {bucket_of(HOUR): 2} == {7: 2}
    assert buckets(1, "frt") == {}
    # Resolutions: 5 h on Monday ([4 h, 8 h)), 3 h on Tuesday ([2 h, 4 h)).
    assert buckets(0, "res") == {9: 1}
    assert buckets(1, "res") == {8: 1}
    # Every dimension splits the same totals: here one channel, one priority, no team, one agent
    # only after the replies (assignment is not automatic), so the tickets sit under "" for both.
    assert counts(0, "channel", t1.channel)["created"] == 2
    assert counts(0, "priority", t1.priority)["created"] == 2
    assert counts(0, "team", "")["created"] == 2
    # The query helper sums the same rows.
    series = rollups.rollup_series(day(0), day(2), "all")
    assert [d.counts["created"] for d in series] == [2, 0, 0]
    assert [d.counts["solved"] for d in series] == [1, 1, 0]
    assert rollups.period_percentiles(series, "full_resolution_time") == (
        percentile([0] * 8 + [1, 1] + [0] * (BUCKETS - 10), 0.5),
        percentile([0] * 8 + [1, 1] + [0] * (BUCKETS - 10), 0.9),
    )
    # Two resolutions, one per bucket: the median is the top of the lower one (4 h), p90 inside
    # [4 h, 8 h): 4 h + 0.8 * 4 h.
    assert rollups.period_percentiles(series, "full_resolution_time") == (4 * HOUR, 4 * HOUR + 0.8 * 4 * HOUR)


@pytest.mark.django_db
def test_a_reopened_ticket_leaves_its_old_solve_day_and_counts_on_the_new_one() -> None:
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(10), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
    assert counts(0)["solved"] == 1
    assert buckets(0, "res") == {7: 1}  # 1 h
    with time_machine.travel(at(9, day=1), tick=False):
        actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Still broken.")
    # Reopened: no longer solved anywhere, but still created on Monday.
    assert counts(0)["solved"] == 0
    assert counts(0)["created"] == 1
    assert buckets(0, "res") == {}
    assert counts(1)["solved"] == 0
    with time_machine.travel(at(12, day=2), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Fixed now.", status=Status.SOLVED)
    wednesday = counts(2)
    assert (wednesday["solved"], wednesday["reopened"], wednesday["reopens"], wednesday["replies"]) == (1, 1, 1, 2)
    # Two replies: not one-touch; a customer message after the first: not first-contact.
    assert (wednesday["one_touch"], wednesday["fcr"]) == (0, 0)
    assert buckets(2, "res") == {13: 1}  # 51 h, in [2 d, 3 d)
    assert counts(0)["solved"] == 0


@pytest.mark.django_db
def test_a_reassignment_moves_the_agents_contribution() -> None:
    first, second = factories.user(Role.AGENT), factories.user(Role.AGENT)
    with time_machine.travel(at(9), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(9.5), tick=False):
        actions.update_ticket(ticket, actor=first, via=Via.WEB, changes={"assignee": first})
    with time_machine.travel(at(10), tick=False):
        actions.add_message(ticket, actor=first, via=Via.WEB, body_text="Looking.", status=Status.SOLVED)
    assert counts(0, "agent", str(first.pk))["created"] == 1
    assert counts(0, "agent", str(first.pk))["solved"] == 1
    with time_machine.travel(at(11), tick=False):
        actions.update_ticket(ticket, actor=second, via=Via.WEB, changes={"assignee": second})
    assert counts(0, "agent", str(first.pk)) == dict.fromkeys(COUNTS + SLA_COLUMNS, 0)
    assert buckets(0, "frt", "agent", str(first.pk)) == {}
    moved = counts(0, "agent", str(second.pk))
    assert (moved["created"], moved["solved"], moved["one_touch"]) == (1, 1, 1)
    assert buckets(0, "frt", "agent", str(second.pk)) == {7: 1}
    # The totals did not change.
    assert (counts(0)["created"], counts(0)["solved"]) == (1, 1)


@pytest.mark.django_db
def test_a_priority_change_moves_the_ticket_between_priority_keys() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    today = ticket.created_at.date()
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
    rows = {r.key: r.created for r in DailyRollup.objects.filter(day=today, dimension="priority")}
    assert rows[Priority.URGENT] == 1
    assert all(n == 0 for key, n in rows.items() if key != Priority.URGENT)


@pytest.mark.django_db
def test_type_and_organization_keys_follow_the_ticket() -> None:
    agent = factories.user(Role.AGENT)
    organization = factories.organization()
    ticket = factories.ticket(requester=factories.customer(organization=organization))
    today = ticket.created_at.date()
    org_rows = {r.key: r.created for r in DailyRollup.objects.filter(day=today, dimension="organization")}
    assert org_rows == {str(organization.pk): 1}
    actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"type": TicketType.INCIDENT})
    rows = {r.key: r.created for r in DailyRollup.objects.filter(day=today, dimension="type")}
    assert rows[TicketType.INCIDENT] == 1
    assert all(n == 0 for key, n in rows.items() if key != TicketType.INCIDENT)


@pytest.mark.django_db
def test_means_come_from_the_sums_beside_the_histograms() -> None:
    two_days()
    whole = rollups.period_total(rollups.rollup_series(day(0), day(2)))
    # Resolutions of 5 h and 3 h; first replies of 1 h and 1.5 h.
    assert whole.mean("full_resolution_time") == 4 * HOUR
    assert whole.mean("first_reply_time") == 1.25 * HOUR
    assert whole.timed("full_resolution_time") == 2
    assert whole.stats("full_resolution_time")[1:] == rollups.period_percentiles([whole], "full_resolution_time")
    assert rollups.period_total(rollups.rollup_series(day(5), day(6))).mean("first_reply_time") is None


@pytest.mark.django_db
def test_a_rating_counts_on_the_solve_day_and_survives_the_metrics_rewriting_the_record() -> None:
    t1, t2, agent = two_days()
    TicketMetrics.objects.filter(pk=t1.pk).update(csat_good=True)
    TicketMetrics.objects.filter(pk=t2.pk).update(csat_good=False)
    rollups.rebuild()
    assert (counts(0)["csat_good"], counts(0)["csat_bad"]) == (1, 0)
    assert (counts(1)["csat_good"], counts(1)["csat_bad"]) == (0, 1)
    # A change to t1 rewrites its record without the rating column: the rating stays counted.
    with time_machine.travel(at(15), tick=False):
        actions.update_ticket(t1, actor=agent, via=Via.WEB, changes={"priority": Priority.HIGH})
    assert counts(0)["csat_good"] == 1
    assert counts(0, "priority", Priority.HIGH)["csat_good"] == 1
    assert TicketMetrics.objects.get(pk=t1.pk).csat_good is True


@pytest.mark.django_db
def test_sla_outcomes_per_target_count_on_the_creation_day() -> None:
    """First reply within its hour (met), resolution past its two hours (breached), solved the
    next day: both outcomes stay with Monday, the ticket's creation day."""
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=None)
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60)
    SlaTarget.objects.create(policy=policy, metric="total_resolution", priority="normal", minutes=120)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=at(0, day=-30))
    sla.clear_cache()
    agent = factories.user(Role.AGENT)
    with time_machine.travel(at(22), tick=False):
        ticket = factories.ticket()
    with time_machine.travel(at(22.5), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Looking.")
    monday = counts(0)
    assert (monday["sla_first_reply_met"], monday["sla_total_resolution_breached"]) == (1, 0)
    with time_machine.travel(at(3, day=1), tick=False):
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Fixed.", status=Status.SOLVED)
    monday, tuesday = counts(0), counts(1)
    assert (monday["sla_first_reply_met"], monday["sla_first_reply_breached"]) == (1, 0)
    assert (monday["sla_total_resolution_met"], monday["sla_total_resolution_breached"]) == (0, 1)
    assert (monday["sla_met"], monday["sla_breached"]) == (1, 1)
    assert tuesday["solved"] == 1
    assert not any(tuesday[name] for name in SLA_COLUMNS)
    series = rollups.rollup_series(day(0), day(1), "priority", keys=["normal"])
    assert series[0].counts["sla_total_resolution_breached"] == 1


# --- percentiles --------------------------------------------------------------------------------


def test_bucket_bounds() -> None:
    assert (bucket_of(0), bucket_of(59), bucket_of(60), bucket_of(3599), bucket_of(3600)) == (0, 0, 1, 6, 7)
    assert bucket_of(10**9) == BUCKETS - 1
    assert percentile([0] * BUCKETS, 0.5) is None
    with pytest.raises(ValueError, match="q must be"):
        percentile([1] + [0] * (BUCKETS - 1), 1.5)


def test_percentile_interpolates_inside_the_bucket() -> None:
    # Ten values in [1 h, 2 h): the median is half-way.
    counts = [0] * BUCKETS
    counts[7] = 10
    assert percentile(counts, 0.5) == 1.5 * HOUR
    assert percentile(counts, 0.9) == 1.9 * HOUR
    assert percentile(counts, 0.0) == HOUR


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.integers(0, 40 * 86400),
            # Skewed like response times: mostly minutes to hours.
            st.integers(0, 4 * 3600),
        ),
        min_size=1,
        max_size=300,
    ),
    q=st.floats(0, 1),
)
def test_the_estimate_is_within_one_bucket_of_the_exact_percentile(values: list[int], q: float) -> None:
    """The proven bound (analytics.histogram.percentile): the exact nearest-rank value and the
    estimate share a bucket, so they differ by less than its width; in the open last bucket the
    estimate is its lower bound and the exact value is at least that. (Equal to the width only
    when the estimate is the bucket's top and the exact value its bottom, e.g. [0] at q = 1.)"""
    estimate = percentile(histogram(values), q)
    exact = exact_nearest_rank(values, q)
    assert estimate is not None
    i = bucket_of(exact)
    if i == BUCKETS - 1:
        assert estimate == BOUNDS[-1] <= exact
    else:
        low, high = BOUNDS[i], BOUNDS[i + 1]
        assert low <= estimate <= high
        assert abs(estimate - exact) <= high - low


def test_on_random_response_times_the_median_and_p90_are_close() -> None:
    """On log-normal times (the usual shape) the estimates land within a bucket's width, which
    in relative terms is under the widest ratio of neighbouring bounds."""
    generator = random.Random(7)
    values = [int(generator.lognormvariate(8, 1.5)) for _ in range(5000)]
    for q in (0.5, 0.9):
        estimate = percentile(histogram(values), q)
        exact = exact_nearest_rank(values, q)
        assert estimate is not None
        i = bucket_of(exact)
        assert abs(estimate - exact) <= BOUNDS[i + 1] - BOUNDS[i]
        assert abs(estimate - exact) / exact < 1.0


# --- incremental == rebuild -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_live_path_and_the_rebuild_agree_on_demo_data() -> None:
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=None)
    for metric, minutes in (("first_reply", 60), ("next_reply", 120), ("total_resolution", 24 * 60)):
        for priority in Priority.values:
            SlaTarget.objects.create(policy=policy, metric=metric, priority=priority, minutes=minutes)
    sla.clear_cache()
    call_command("demo_data", "--tickets", "200", "--days", "20", "--seed", "11", stdout=io.StringIO())
    built = snapshot()
    assert built, "demo data rebuilds the records and so the rollups"
    assert DailyRollup.objects.filter(sla_first_reply_met__gt=0).exists()
    assert DailyRollup.objects.filter(sla_total_resolution_breached__gt=0).exists()
    # Live changes of every kind the rollups distinguish, through the actions.
    agents = [factories.user(Role.AGENT) for _ in range(2)]
    generator = random.Random(5)
    tickets = list(Ticket.objects.order_by("pk"))
    generator.shuffle(tickets)
    now = max(t.updated_at for t in tickets) + datetime.timedelta(hours=1)
    moves = {"reply": 0, "solve": 0, "reopen": 0, "reassign": 0, "priority": 0, "new": 0}
    with time_machine.travel(now, tick=False):
        for n, ticket in enumerate(tickets[:80]):
            ticket.refresh_from_db()
            agent = agents[ticket.pk % 2]
            if ticket.status == Status.CLOSED:
                continue
            if ticket.status == Status.SOLVED:
                actions.add_message(ticket, actor=ticket.requester, via=Via.EMAIL, body_text="Not yet.")
                moves["reopen"] += 1
            elif n % 2 == 0:
                actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
                moves["solve"] += 1
            else:
                actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Working on it.")
                moves["reply"] += 1
            if ticket.pk % 4 == 0:
                actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"team": None, "assignee": agent})
                moves["reassign"] += 1
            if ticket.pk % 5 == 0:
                actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": Priority.URGENT})
                moves["priority"] += 1
        for _ in range(5):
            factories.ticket()
            moves["new"] += 1
    assert all(moves.values()), moves
    live = snapshot()
    assert live != built
    rollups.rebuild()
    rebuilt = snapshot()
    assert live == rebuilt
    # An independent check of the rebuild itself: per dimension, the keys add up to "all", and
    # "all" counts every record once on its creation day and every solved one on its solve day.
    records = TicketMetrics.objects.all()
    assert sum(r.created for r in DailyRollup.objects.filter(dimension="all")) == records.count()
    assert sum(r.solved for r in DailyRollup.objects.filter(dimension="all")) == records.exclude(solved_at=None).count()
    for dimension in ("team", "agent", "channel", "priority"):
        for name in ("created", "solved", "replies", "sla_met", "frt_b07", "resb_b10"):
            per_day: dict[datetime.date, int] = {}
            for r in DailyRollup.objects.filter(dimension=dimension):
                per_day[r.day] = per_day.get(r.day, 0) + getattr(r, name)
            totals = {r.day: getattr(r, name) for r in DailyRollup.objects.filter(dimension="all")}
            assert {d: n for d, n in per_day.items() if n} == {d: n for d, n in totals.items() if n}, (dimension, name)


# --- query counts ---------------------------------------------------------------------------------


def _queries(change: Any) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        change()
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.django_db
def test_a_change_costs_one_read_and_one_rollup_write() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    sql = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"priority": "high"}))
    rollup_writes = [s for s in sql if "analytics_dailyrollup" in s]
    record_touches = [s for s in sql if "analytics_ticketmetrics" in s]
    # One upsert statement: the rows of the old and the new priority.
    assert len(rollup_writes) == 1
    assert "INSERT INTO" in rollup_writes[0]
    if connection.vendor == "postgresql":
        # The stored record is read by the upsert statement itself (ticket_metrics.swap_row).
        assert len(record_touches) == 1
        assert record_touches[0].startswith("WITH old AS (SELECT")
    else:
        assert [s.split()[0] for s in record_touches] == ["SELECT", "INSERT"]


@pytest.mark.django_db
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "unprepared"])
def test_a_bulk_addition_stays_under_the_parameter_limit_and_sums_exactly(prepared: bool) -> None:
    """On PostgreSQL with prepared statements the vectors go as one matrix; without, as one
    array per column moved; SQLite names the moved columns too."""
    with override_settings(DB_PREPARE_STATEMENTS=prepared):
        _bulk_addition(prepared)


def _bulk_addition(prepared: bool) -> None:
    start = datetime.date(2026, 1, 1)
    every = [1] * len(rollups.COLUMNS)
    deltas = {(start + datetime.timedelta(days=n), "team", str(k)): every for n in range(60) for k in range(20)}
    rollups.add(deltas)
    sql = _queries(lambda: rollups.add(deltas))
    if connection.vendor == "postgresql":
        # One statement whatever the number of rows.
        assert len(sql) == 1
        assert "unnest(" in sql[0]
        assert ("m.v[d.n]" in sql[0]) == prepared
    else:
        per_statement = rollups._MAX_PARAMS // (3 + len(rollups.COLUMNS))
        assert len(sql) == -(-len(deltas) // per_statement) > 1
    assert DailyRollup.objects.count() == len(deltas)
    row = DailyRollup.objects.get(day=start, dimension="team", key="7")
    assert all(getattr(row, name) == 2 for name in rollups.COLUMNS)
    # Vectors moving different columns share one statement; a zero vector writes nothing.
    sql = _queries(
        lambda: rollups.add(
            {
                (start, "team", "7"): [1] + [0] * (len(rollups.COLUMNS) - 1),
                (start, "team", "8"): [0] * (len(rollups.COLUMNS) - 1) + [5],
                (start, "team", "9"): [0] * len(rollups.COLUMNS),
            }
        )
    )
    assert len(sql) == 1
    assert getattr(DailyRollup.objects.get(day=start, dimension="team", key="7"), rollups.COLUMNS[0]) == 3
    assert getattr(DailyRollup.objects.get(day=start, dimension="team", key="8"), rollups.COLUMNS[-1]) == 7
    assert getattr(DailyRollup.objects.get(day=start, dimension="team", key="8"), rollups.COLUMNS[0]) == 2
    # A new row names only the columns it moves: the others take their database default, 0.
    rollups.add({(start, "team", "new"): [0] * (len(rollups.COLUMNS) - 1) + [4]})
    fresh = DailyRollup.objects.get(day=start, dimension="team", key="new")
    assert [getattr(fresh, name) for name in rollups.COLUMNS] == [0] * (len(rollups.COLUMNS) - 1) + [4]
    # Differences subtract.
    rollups.add(
        {
            (start, "team", "new"): [-1] * len(rollups.COLUMNS),
            (start, "team", "7"): [-3] + [0] * (len(rollups.COLUMNS) - 1),
        }
    )
    fresh.refresh_from_db()
    assert [getattr(fresh, name) for name in rollups.COLUMNS] == [-1] * (len(rollups.COLUMNS) - 1) + [3]
    assert getattr(DailyRollup.objects.get(day=start, dimension="team", key="7"), rollups.COLUMNS[0]) == 0


@pytest.mark.django_db
def test_postgresql_keeps_room_on_each_page_for_hot_updates() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("fillfactor is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('analytics_ticketmetrics', 'analytics_dailyrollup') ORDER BY relname"
        )
        found = dict(cursor.fetchall())
    assert found == {"analytics_dailyrollup": ["fillfactor=60"], "analytics_ticketmetrics": ["fillfactor=85"]}


@pytest.mark.django_db
def test_a_change_that_moves_nothing_writes_no_rollup() -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    # Tags are not a dimension of the record: a tag change writes nothing to the rollups.
    sql = _queries(lambda: actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"tags": ["billing"]}))
    assert not [s for s in sql if "analytics_dailyrollup" in s]


@pytest.mark.django_db
def test_the_rebuild_is_two_grouped_reads_per_dimension_and_one_write() -> None:
    factories.ticket()
    sql = _queries(rollups.rebuild)
    assert len([s for s in sql if s.startswith("SELECT") and "GROUP BY" in s]) == 2 * len(RollupDimension.values)
    assert len([s for s in sql if "analytics_dailyrollup" in s]) == 2  # the delete, the insert


@pytest.mark.django_db
def test_the_series_is_one_query() -> None:
    factories.ticket()
    sql = _queries(lambda: rollups.rollup_series(day(0), day(30), "team", keys=["1", ""]))
    assert len(sql) == 1


# --- the rebuild's entry points ---------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_rebuild_rebuilds_the_rollups() -> None:
    agent = factories.user(Role.AGENT)
    for _ in range(3):
        ticket = factories.ticket()
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done.", status=Status.SOLVED)
    live = snapshot()
    DailyRollup.objects.update(created=99)  # stale
    DailyRollup.objects.create(day=day(-400), dimension="all", key="", solved=5)  # and a stray row
    out = io.StringIO()
    call_command("metrics_rebuild", "--workers", "1", stdout=out)
    assert snapshot() == live
    assert f"Rebuilt {DailyRollup.objects.count()} daily rollup rows." in out.getvalue()


@pytest.mark.django_db
def test_the_bulk_sla_recompute_moves_the_rollups_by_what_it_changed() -> None:
    from deskpilot.policies.sla_rebuild import recompute_all

    with time_machine.travel(at(9), tick=False):
        untouched = factories.ticket(subject="Created before any policy")
        breached = factories.ticket(subject="Will breach")
    assert counts(0)["sla_breached"] == 0
    # A policy made without the managers' actions: only the bulk recompute applies it.
    policy = SlaPolicy.objects.create(name="Standard", warning_percent=None)
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60, business_hours=False)
    SlaPolicy.objects.filter(pk=policy.pk).update(updated_at=at(0))
    sla.clear_cache()
    with time_machine.travel(at(12), tick=False):
        recompute_all(chunk=1)  # one announcement per ticket
    assert counts(0)["sla_breached"] == 2  # both breached their first reply at 10:00
    assert TicketMetrics.objects.get(ticket=untouched).sla_breached == 1
    assert TicketMetrics.objects.get(ticket=breached).sla_breached == 1
    moved = snapshot()
    rollups.rebuild()
    assert snapshot() == moved  # exactly what a whole rebuild gives
