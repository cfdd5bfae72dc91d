"""Daily rollups of the metrics records (``DailyRollup``): per UTC day and per team, agent, channel
and priority (and all tickets), the counts and histogram buckets the performance page sums over a
date range, so medians and 90th percentiles never scan every ticket.

Day boundaries are UTC days: settings has no desk reporting time zone (TIME_ZONE is UTC and
pages convert per viewer), and a rollup row cannot be re-cut into another zone's days later.
A ticket counts on two days (docs: DailyRollup's help texts):

- its *creation day*: created, escalated / escalations, SLA met / breached, in total and per
  target (the cohort of tickets
  that arrived: "% SLA met" and the escalation rate are shares of arrivals, and a breach while the
  ticket is still open shows at once) and the first reply time histogram. The first reply counts
  with the creation day, as the created-date reports of Zendesk-like desks do, because the
  record keeps the time to the first reply but not its instant, and "how fast were Monday's
  tickets answered" is the question a manager asks;
- its *solve day*, the day of its latest solve while it is solved or closed (``solved_at``):
  solved, reopened (tickets reopened at least once) / reopens, replies, one-touch, first-contact
  resolution and the full resolution time histogram. A reopened ticket leaves its old solve day
  (the record's solve fields go back to None) and counts again on the day it is solved anew.

Team and agent are the ticket's current ones (the record's dimensions), so a reassignment moves
the whole contribution of the ticket to the new agent, on both of its days.

Kept current by the live path (``ticket_metrics.refresh``): the record's old values are read
before its upsert and the difference of the two contributions is added with one upsert
(``x = x + delta``), in the same transaction; ``rebuild`` recomputes every row from TicketMetrics
with grouped SQL after a bulk rebuild of the records.
"""

from __future__ import annotations

import datetime
import functools
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum

from deskpilot.analytics.histogram import BOUNDS, BUCKETS, bucket_of, median_and_p90, merge
from deskpilot.analytics.models import (
    BUCKET_COLUMNS,
    COUNTS,
    HISTOGRAMS,
    SLA_COLUMNS,
    SUM_COLUMNS,
    DailyRollup,
    RollupDimension,
    TicketMetrics,
)
from deskpilot.core.db import prepare_enabled, prepared_cursor

# Every summed column of a rollup row, in the order the vectors below use.
COLUMNS = COUNTS + SLA_COLUMNS + SUM_COLUMNS + BUCKET_COLUMNS
_INDEX = {name: i for i, name in enumerate(COLUMNS)}
_WIDTH = len(COLUMNS)

# The record's columns a contribution depends on (read back before the live path's upsert).
SOURCE = (
    "created_at",
    "solved_at",
    "team_id",
    "assignee_id",
    "channel",
    "priority",
    "type",
    "organization_id",
    "reopens",
    "replies",
    "one_touch",
    "first_contact_resolution",
    "escalations",
    "sla_met",
    "sla_breached",
    "sla_outcomes",
    "csat_good",
    *HISTOGRAMS,
)
# Histograms counted on the creation day; the others on the solve day.
_CREATION_HISTOGRAMS = ("first_reply_time", "first_reply_time_business")
_SOLVE_HISTOGRAMS = ("full_resolution_time", "full_resolution_time_business")

Key = tuple[datetime.date, str, str]


def day_of(value: Any) -> datetime.date:
    """The UTC day of a stored timestamp: SQLite's text (UTC), or a datetime; a day is itself
    (PostgreSQL's grouped rebuild casts to date)."""
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    if not isinstance(value, datetime.datetime):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC)
    return value.date()


def _outcomes(stored: Any) -> dict[str, dict[str, int]]:
    """The record's per-target SLA outcomes: JSON text (SQLite, and the live path's new row) or
    already decoded (PostgreSQL's jsonb)."""
    if not stored:
        return {}
    return json.loads(stored) if isinstance(stored, str) else stored


def _keys(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    team, agent, organization = values["team_id"], values["assignee_id"], values["organization_id"]
    return [
        (RollupDimension.ALL, ""),
        (RollupDimension.TEAM, "" if team is None else str(team)),
        (RollupDimension.AGENT, "" if agent is None else str(agent)),
        (RollupDimension.CHANNEL, values["channel"]),
        (RollupDimension.PRIORITY, values["priority"]),
        (RollupDimension.TYPE, values["type"]),
        (RollupDimension.ORGANIZATION, "" if organization is None else str(organization)),
    ]


def contribution(values: Mapping[str, Any] | None) -> dict[Key, list[int]]:
    """What one metrics record adds to the rollups (``values`` by column name; None: no record)."""
    if values is None:
        return {}
    created = [0] * _WIDTH
    created[_INDEX["created"]] = 1
    escalations = values["escalations"] or 0
    created[_INDEX["escalated"]] = int(escalations > 0)
    created[_INDEX["escalations"]] = escalations
    created[_INDEX["sla_met"]] = values["sla_met"] or 0
    created[_INDEX["sla_breached"]] = values["sla_breached"] or 0
    for metric, outcome in _outcomes(values["sla_outcomes"]).items():
        for state in ("met", "breached"):
            created[_INDEX[f"sla_{metric}_{state}"]] = outcome.get(state, 0)
    for name in _CREATION_HISTOGRAMS:
        _count_time(created, name, values[name])
    days = [(day_of(values["created_at"]), created)]
    if values["solved_at"] is not None:
        solved = [0] * _WIDTH
        solved[_INDEX["solved"]] = 1
        reopens = values["reopens"] or 0
        solved[_INDEX["reopened"]] = int(reopens > 0)
        solved[_INDEX["reopens"]] = reopens
        solved[_INDEX["replies"]] = values["replies"] or 0
        solved[_INDEX["one_touch"]] = int(bool(values["one_touch"]))
        solved[_INDEX["fcr"]] = int(bool(values["first_contact_resolution"]))
        if values["csat_good"] is not None:
            solved[_INDEX["csat_good" if values["csat_good"] else "csat_bad"]] = 1
        for name in _SOLVE_HISTOGRAMS:
            _count_time(solved, name, values[name])
        days.append((day_of(values["solved_at"]), solved))
    result: dict[Key, list[int]] = {}
    for day, vector in days:
        for dimension, key in _keys(values):
            _add(result.setdefault((day, dimension, key), [0] * _WIDTH), vector, 1)
    return result


def _count_time(vector: list[int], name: str, seconds: int | None) -> None:
    """A time metric's value into its histogram bucket and its sum (nothing while it is None)."""
    if seconds is not None:
        prefix = HISTOGRAMS[name]
        vector[_INDEX[f"{prefix}_b{bucket_of(seconds):02d}"]] += 1
        vector[_INDEX[f"{prefix}_sum"]] += seconds


def _add(into: list[int], vector: Sequence[int], sign: int) -> None:
    # Element-wise in C (map): the live path adds some 30 of these 107-wide vectors per change.
    into[:] = map(operator.add if sign > 0 else operator.sub, into, vector)


def difference(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> dict[Key, list[int]]:
    """new's contribution minus old's, rows without any change left out. The metrics writers do
    not own ``csat_good`` (the feedback app does): a new record without it keeps the old one's."""
    if new is not None and "csat_good" not in new:
        new = {**new, "csat_good": old["csat_good"] if old is not None else None}
    delta = contribution(new)
    for key, vector in contribution(old).items():
        _add(delta.setdefault(key, [0] * _WIDTH), vector, -1)
    return {key: vector for key, vector in delta.items() if any(vector)}


# --- the live path -------------------------------------------------------------------------------


@functools.cache
def _read_sql(vendor: str) -> str:
    names = ", ".join(connection.ops.quote_name(c) for c in SOURCE)
    return f"SELECT {names} FROM {connection.ops.quote_name(TicketMetrics._meta.db_table)} WHERE ticket_id = %s"


def read_record(ticket_id: int) -> dict[str, Any] | None:
    """The record's stored values a contribution reads (one query), None without a record."""
    with connection.cursor() as cursor:
        cursor.execute(_read_sql(connection.vendor), [ticket_id])
        found = cursor.fetchone()
    return None if found is None else dict(zip(SOURCE, found, strict=True))


_MAX_PARAMS = 30_000
_MAX_ROWS = 500


@functools.lru_cache(maxsize=1024)
def _add_sql(vendor: str, changed: tuple[int, ...], rows: int) -> str:
    """The upsert adding ``rows`` vectors whose non-zero entries are among the columns
    ``changed`` (indexes in COLUMNS). Only those columns are named: the others of a new row take
    their database default, 0. A change moves a handful of the rollup's columns on about 14 rows;
    naming all of them (or a statement per row) was most of the live path's rollup cost. Cached
    per shape."""
    quote = connection.ops.quote_name
    table = quote(DailyRollup._meta.db_table)
    names = ["day", "dimension", "key", *(COLUMNS[i] for i in changed)]
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    updates = ", ".join(
        f"{quote(COLUMNS[i])} = {table}.{quote(COLUMNS[i])} + excluded.{quote(COLUMNS[i])}" for i in changed
    )
    return (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in names)}) VALUES {', '.join([one] * rows)} "
        f"ON CONFLICT (day, dimension, {quote('key')}) DO UPDATE SET {updates}"
    )


@functools.cache
def _add_sql_matrix(vendor: str) -> str:
    """PostgreSQL's ``_add_sql``: the rows' keys as three arrays, their vectors as one
    two-dimensional array (a row per key, a column per rollup column), every column named. The
    text is the same for every change, so the connection prepares it once (``core.db``); naming
    only the columns a change moves made hundreds of texts, each parsed and planned anew."""
    quote = connection.ops.quote_name
    table = quote(DailyRollup._meta.db_table)
    names = ", ".join(["day", "dimension", quote("key"), *(quote(c) for c in COLUMNS)])
    values = ", ".join(f"m.v[d.n][{i + 1}]" for i in range(len(COLUMNS)))
    updates = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in COLUMNS)
    return (
        f"INSERT INTO {table} ({names}) SELECT d.day, d.dimension, d.key, {values} "
        "FROM unnest(%s::date[], %s::varchar[], %s::varchar[]) WITH ORDINALITY AS d(day, dimension, key, n), "
        f"(SELECT %s::bigint[] AS v) AS m ON CONFLICT (day, dimension, {quote('key')}) DO UPDATE SET {updates}"
    )


@functools.lru_cache(maxsize=1024)
def _add_sql_arrays(changed: tuple[int, ...]) -> str:
    """PostgreSQL without prepared statements: the rows as arrays, one per column a change moves
    (a few, where the matrix names all of them: a shorter text to parse every time)."""
    quote = connection.ops.quote_name
    table = quote(DailyRollup._meta.db_table)
    names = ["day", "dimension", "key", *(COLUMNS[i] for i in changed)]
    arrays = ["%s::date[]", "%s::varchar[]", "%s::varchar[]", *(["%s::bigint[]"] * len(changed))]
    updates = ", ".join(
        f"{quote(COLUMNS[i])} = {table}.{quote(COLUMNS[i])} + excluded.{quote(COLUMNS[i])}" for i in changed
    )
    return (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in names)}) SELECT * FROM unnest({', '.join(arrays)}) "
        f"ON CONFLICT (day, dimension, {quote('key')}) DO UPDATE SET {updates}"
    )


def _matrix_literal(vectors: Iterable[Sequence[int]]) -> str:
    """A two-dimensional bigint array in PostgreSQL's text form, written directly: the driver's
    array adapter checks every element for quoting (thousands of integers per change)."""
    return "{" + ",".join("{" + ",".join(map(str, vector)) + "}" for vector in vectors) + "}"


def add(deltas: Mapping[Key, Sequence[int]]) -> None:
    """Add these vectors to their rollup rows, creating missing rows: one statement (one round
    trip; the prepared matrix on PostgreSQL, else naming the union of the columns any of them
    moves); no query without deltas. Rows are written in key order, so two transactions adding
    to the same rows lock them in the same order and cannot deadlock."""
    rows = sorted((key, vector) for key, vector in deltas.items() if any(vector))
    if not rows:
        return
    adapt = connection.ops.adapt_datefield_value
    keys: list[Any] = [
        [adapt(day) for (day, _, _), _ in rows],
        [dimension for (_, dimension, _), _ in rows],
        [key for (_, _, key), _ in rows],
    ]
    if connection.vendor == "postgresql" and prepare_enabled():
        # One statement whatever the rows: their keys as arrays, their vectors as a matrix.
        with prepared_cursor() as cursor:
            cursor.execute(_add_sql_matrix(connection.vendor), [*keys, _matrix_literal(v for _, v in rows)])
        return
    changed = tuple(i for i, column in enumerate(zip(*(vector for _, vector in rows), strict=True)) if any(column))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_add_sql_arrays(changed), [*keys, *([v[i] for _, v in rows] for i in changed)])
        return
    # A bulk rewrite (analytics.rebuild) can move thousands of rows: statements stay under
    # SQLite's limit on bound parameters (32,766).
    per_statement = max(1, min(_MAX_ROWS, _MAX_PARAMS // (3 + len(changed))))
    with connection.cursor() as cursor:
        for first in range(0, len(rows), per_statement):
            batch = rows[first : first + per_statement]
            params: list[Any] = []
            for (day, dimension, key), vector in batch:
                params += (adapt(day), dimension, key, *(vector[i] for i in changed))
            cursor.execute(_add_sql(connection.vendor, changed, len(batch)), params)


def read_records(first: int, last: int) -> dict[int, dict[str, Any]]:
    """The stored values ``read_record`` reads, for the records of tickets first..last (one
    query): what a bulk rewrite of those records subtracts from the rollups."""
    names = ", ".join(connection.ops.quote_name(c) for c in SOURCE)
    table = connection.ops.quote_name(TicketMetrics._meta.db_table)
    with connection.cursor() as cursor:
        # Only quoted column and table names from the model are formatted in.
        cursor.execute(f"SELECT ticket_id, {names} FROM {table} WHERE ticket_id BETWEEN %s AND %s", [first, last])
        return {found[0]: dict(zip(SOURCE, found[1:], strict=True)) for found in cursor.fetchall()}


def record_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> None:
    """The live path: a record went from ``old`` (``read_record`` before its upsert) to ``new``."""
    add(difference(old, new))


# --- the rebuild ---------------------------------------------------------------------------------


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'UTC') AS date)"
    # SQLite keeps UTC timestamps as ISO text: the day is its first ten characters.
    return f"substr({column}, 1, 10)"


def _json_count(metric: str, state: str) -> str:
    """One count out of the record's sla_outcomes JSON (names are fixed identifiers)."""
    if connection.vendor == "postgresql":
        return f"CAST(sla_outcomes -> '{metric}' ->> '{state}' AS integer)"
    return f"json_extract(sla_outcomes, '$.{metric}.{state}')"


_KEY_SQL = {
    RollupDimension.ALL: "''",
    RollupDimension.TEAM: "COALESCE(CAST(team_id AS TEXT), '')",
    RollupDimension.AGENT: "COALESCE(CAST(assignee_id AS TEXT), '')",
    RollupDimension.CHANNEL: "channel",
    RollupDimension.PRIORITY: "priority",
    RollupDimension.TYPE: "type",
    RollupDimension.ORGANIZATION: "COALESCE(CAST(organization_id AS TEXT), '')",
}


def _bucket_sums(column: str) -> list[str]:
    sums = []
    for i in range(BUCKETS):
        upper = f" AND {column} < {BOUNDS[i + 1]}" if i + 1 < BUCKETS else ""
        sums.append(f"SUM(CASE WHEN {column} >= {BOUNDS[i]}{upper} THEN 1 ELSE 0 END)")
    return sums


def _grouped_sql(dimension: str, on_solve_day: bool, condition: str = "") -> tuple[str, list[str]]:
    """One grouped statement: per day and key, the sums of the figures counted on that day (of
    the records meeting ``condition``, SQL, when given)."""
    table = connection.ops.quote_name(TicketMetrics._meta.db_table)
    if on_solve_day:
        sums = {
            "solved": "COUNT(*)",
            "reopened": "SUM(CASE WHEN reopens > 0 THEN 1 ELSE 0 END)",
            "reopens": "SUM(reopens)",
            "replies": "SUM(replies)",
            "one_touch": "SUM(CASE WHEN one_touch THEN 1 ELSE 0 END)",
            "fcr": "SUM(CASE WHEN first_contact_resolution THEN 1 ELSE 0 END)",
            "csat_good": "SUM(CASE WHEN csat_good THEN 1 ELSE 0 END)",
            "csat_bad": "SUM(CASE WHEN NOT csat_good THEN 1 ELSE 0 END)",
        }
        histograms, day, where = _SOLVE_HISTOGRAMS, "solved_at", "solved_at IS NOT NULL"
    else:
        sums = {
            "created": "COUNT(*)",
            "escalated": "SUM(CASE WHEN escalations > 0 THEN 1 ELSE 0 END)",
            "escalations": "SUM(escalations)",
            "sla_met": "SUM(sla_met)",
            "sla_breached": "SUM(sla_breached)",
        }
        for column in SLA_COLUMNS:
            metric, state = column.removeprefix("sla_").rsplit("_", 1)
            sums[column] = f"SUM(COALESCE({_json_count(metric, state)}, 0))"
        histograms, day, where = _CREATION_HISTOGRAMS, "created_at", ""
    where = " AND ".join(f"({c})" for c in (where, condition) if c)
    for name in histograms:
        sums[f"{HISTOGRAMS[name]}_sum"] = f"SUM(COALESCE({name}, 0))"
        for i, expression in enumerate(_bucket_sums(name)):
            sums[f"{HISTOGRAMS[name]}_b{i:02d}"] = expression
    sql = (
        f"SELECT {_day_sql(day)} AS rollup_day, {_KEY_SQL[RollupDimension(dimension)]} AS rollup_key, "
        f"{', '.join(sums.values())} FROM {table} {'WHERE ' + where + ' ' if where else ''}"
        "GROUP BY rollup_day, rollup_key"
    )
    return sql, list(sums)


@dataclass
class RebuildTotals:
    rows: int = 0


def rebuild() -> RebuildTotals:
    """Every rollup row again from the metrics records: two grouped statements per dimension (by
    creation day, by solve day), then the table replaced in one transaction."""
    totals: dict[Key, list[int]] = {}
    with connection.cursor() as cursor:
        for dimension in RollupDimension.values:
            for on_solve_day in (False, True):
                sql, names = _grouped_sql(dimension, on_solve_day)
                indexes = [_INDEX[name] for name in names]
                cursor.execute(sql)
                for day, key, *sums in cursor.fetchall():
                    vector = totals.setdefault((day_of(day), dimension, key), [0] * _WIDTH)
                    for i, value in zip(indexes, sums, strict=True):
                        vector[i] += int(value or 0)
    adapt = connection.ops.adapt_datefield_value
    columns = ", ".join(connection.ops.quote_name(c) for c in ("day", "dimension", "key", *COLUMNS))
    insert = (
        f"INSERT INTO {connection.ops.quote_name(DailyRollup._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * (3 + _WIDTH))})"
    )
    rows = [(adapt(day), dimension, key, *vector) for (day, dimension, key), vector in totals.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(DailyRollup._meta.db_table)}")
        if rows:
            cursor.executemany(insert, rows)
    return RebuildTotals(rows=len(rows))


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Day:
    """One day's sums over the chosen keys of a dimension (``counts``: COUNTS and the per-target
    SLA_COLUMNS such as ``sla_first_reply_met``), and its merged histograms (by time metric name,
    e.g. ``first_reply_time_business``)."""

    day: datetime.date
    counts: dict[str, int]
    histograms: dict[str, list[int]]

    def median_and_p90(self, metric: str) -> tuple[float | None, float | None]:
        return median_and_p90(self.histograms[metric])

    def timed(self, metric: str) -> int:
        """How many tickets have a value of ``metric`` (its histogram's total)."""
        return sum(self.histograms[metric])

    def mean(self, metric: str) -> float | None:
        count = self.timed(metric)
        return self.counts[f"{HISTOGRAMS[metric]}_sum"] / count if count else None

    def stats(self, metric: str) -> tuple[float | None, float | None, float | None]:
        """Mean, median and 90th percentile of ``metric`` (DOMAIN.md: reports show all three)."""
        return (self.mean(metric), *self.median_and_p90(metric))


def rollup_series(
    start_day: datetime.date,
    end_day: datetime.date,
    dimension: str = RollupDimension.ALL,
    keys: Iterable[str] | None = None,
) -> list[Day]:
    """Per day from ``start_day`` to ``end_day`` (both included, UTC days), the rollups of
    ``dimension`` summed over ``keys`` (all of the dimension's keys when None; ids as text for
    team and agent, "" for none): one query. Days without tickets are present, with zeros."""
    rows = DailyRollup.objects.filter(dimension=RollupDimension(dimension), day__range=(start_day, end_day))
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    by_day: dict[datetime.date, list[int]] = {}
    for values in rows.values_list("day", *COLUMNS):
        _add(by_day.setdefault(values[0], [0] * _WIDTH), values[1:], 1)
    return _days(start_day, end_day, by_day)


def _days(start_day: datetime.date, end_day: datetime.date, by_day: Mapping[datetime.date, Sequence[int]]) -> list[Day]:
    """Every day of the range, in order, from the vectors found (zeros where none)."""
    series = []
    day = start_day
    while day <= end_day:
        series.append(_day_from(day, by_day.get(day, [0] * _WIDTH)))
        day += datetime.timedelta(days=1)
    return series


def period_percentiles(series: Iterable[Day], metric: str) -> tuple[float | None, float | None]:
    """Median and 90th percentile of ``metric`` over a whole period (its days' histograms merged)."""
    return median_and_p90(merge(day.histograms[metric] for day in series))


def period_total(series: Sequence[Day]) -> Day:
    """The days of a period added up into one (dated its first day): its counts and histograms."""
    counts = dict.fromkeys(COUNTS + SLA_COLUMNS + SUM_COLUMNS, 0)
    histograms = {name: [0] * BUCKETS for name in HISTOGRAMS}
    for day in series:
        for name, value in day.counts.items():
            counts[name] += value
        for name, histogram in day.histograms.items():
            into = histograms[name]
            for i, n in enumerate(histogram):
                into[i] += n
    return Day(day=series[0].day if series else datetime.date.min, counts=counts, histograms=histograms)


def _day_from(day: datetime.date, vector: Sequence[int]) -> Day:
    return Day(
        day=day,
        counts={name: vector[_INDEX[name]] for name in COUNTS + SLA_COLUMNS + SUM_COLUMNS},
        histograms={
            name: [vector[_INDEX[f"{prefix}_b{i:02d}"]] for i in range(BUCKETS)] for name, prefix in HISTOGRAMS.items()
        },
    )


def totals_by_key(
    start_day: datetime.date, end_day: datetime.date, dimension: str, keys: Iterable[str] | None = None
) -> dict[str, Day]:
    """Per key of ``dimension`` (the chosen ``keys``, or every key with rows), its period from
    ``start_day`` to ``end_day`` added up (dated ``start_day``): one grouped query."""
    rows = DailyRollup.objects.filter(dimension=RollupDimension(dimension), day__range=(start_day, end_day))
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    sums = {name: Sum(name) for name in COLUMNS}
    return {
        values["key"]: _day_from(start_day, [int(values[name] or 0) for name in COLUMNS])
        for values in rows.values("key").annotate(**sums).order_by("key")
    }


def unsolved_before(day: datetime.date, dimension: str = RollupDimension.ALL, key: str | None = None) -> int:
    """The backlog when ``day`` begins: every ticket created before it minus every one whose
    latest solve is before it (a ticket counts in ``created`` and, once, in ``solved``), one
    aggregate over the rollups of the earlier days."""
    rows = DailyRollup.objects.filter(dimension=RollupDimension(dimension), day__lt=day)
    if key is not None:
        rows = rows.filter(key=key)
    found = rows.aggregate(created=Sum("created"), solved=Sum("solved"))
    return int(found["created"] or 0) - int(found["solved"] or 0)


# --- the same figures for any filter, from the records ------------------------------------------


@dataclass(frozen=True)
class RecordFilter:
    """A condition on metrics records (SQL over the record's own columns, with its parameters),
    for filters the rollups cannot answer: several dimensions at once, or tags."""

    sql: str = ""
    params: tuple[Any, ...] = ()


def _datetime_param(day: datetime.date) -> Any:
    moment = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    return connection.ops.adapt_datetimefield_value(moment)


def filtered_series(start_day: datetime.date, end_day: datetime.date, condition: RecordFilter) -> list[Day]:
    """What ``rollup_series`` gives, computed from the records that meet ``condition``: the same
    grouped sums the rebuild writes, restricted to the range (two grouped queries: the creation
    days, the solve days). Slower than the rollups (it reads every record of the range), exact
    for any combination of filters."""
    since, until = _datetime_param(start_day), _datetime_param(end_day + datetime.timedelta(days=1))
    extra = f" AND ({condition.sql})" if condition.sql else ""
    by_day: dict[datetime.date, list[int]] = {}
    with connection.cursor() as cursor:
        for on_solve_day, column in ((False, "created_at"), (True, "solved_at")):
            sql, names = _grouped_sql(RollupDimension.ALL, on_solve_day, f"{column} >= %s AND {column} < %s{extra}")
            cursor.execute(sql, [since, until, *condition.params])
            indexes = [_INDEX[name] for name in names]
            for day, _, *sums in cursor.fetchall():
                vector = by_day.setdefault(day_of(day), [0] * _WIDTH)
                for i, value in zip(indexes, sums, strict=True):
                    vector[i] += int(value or 0)
    return _days(start_day, end_day, by_day)


def filtered_unsolved_before(day: datetime.date, condition: RecordFilter) -> int:
    """``unsolved_before`` for the records that meet ``condition``."""
    moment = _datetime_param(day)
    table = connection.ops.quote_name(TicketMetrics._meta.db_table)
    extra = f" AND ({condition.sql})" if condition.sql else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} WHERE created_at < %s AND (solved_at IS NULL OR solved_at >= %s){extra}",
            [moment, moment, *condition.params],
        )
        return int(cursor.fetchone()[0])


def filtered_totals_by_key(
    start_day: datetime.date, end_day: datetime.date, dimension: str, condition: RecordFilter
) -> dict[str, Day]:
    """``totals_by_key`` computed from the records that meet ``condition`` (two grouped queries)."""
    since, until = _datetime_param(start_day), _datetime_param(end_day + datetime.timedelta(days=1))
    extra = f" AND ({condition.sql})" if condition.sql else ""
    by_key: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        for on_solve_day, column in ((False, "created_at"), (True, "solved_at")):
            sql, names = _grouped_sql(dimension, on_solve_day, f"{column} >= %s AND {column} < %s{extra}")
            cursor.execute(sql, [since, until, *condition.params])
            indexes = [_INDEX[name] for name in names]
            for _, key, *sums in cursor.fetchall():
                vector = by_key.setdefault(key, [0] * _WIDTH)
                for i, value in zip(indexes, sums, strict=True):
                    vector[i] += int(value or 0)
    return {key: _day_from(start_day, vector) for key, vector in sorted(by_key.items())}
