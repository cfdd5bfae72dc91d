"""core.db.prepared_cursor: PostgreSQL prepares what it runs repeatedly, the query log still shows
each statement, and the setting turns it off; elsewhere it is Django's own cursor."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from deskpilot.core import db

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %s + 1 AS {}"


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def run(times: int, name: str) -> list[int]:
    """The probe statement ``times`` times; each test names its own, as prepared statements
    outlive a test's transaction."""
    answers = []
    for value in range(times):
        with db.prepared_cursor() as cursor:
            cursor.execute(STATEMENT.format(name), [value])
            answers.append(cursor.fetchone()[0])
    return answers


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_postgresql_prepares_a_statement_run_repeatedly_and_logs_it() -> None:
    with CaptureQueriesContext(connection) as captured:
        assert run(db.PREPARE_THRESHOLD + 3, "deskpilot_prepared_probe") == list(range(1, db.PREPARE_THRESHOLD + 4))
    assert any("deskpilot_prepared_probe" in statement for statement in prepared_statements())
    # Every run is in the log with its text, the prepared ones too.
    logged = [q["sql"] for q in captured.captured_queries]
    assert len(logged) == db.PREPARE_THRESHOLD + 3
    assert all(sql is not None and "deskpilot_prepared_probe" in sql for sql in logged), logged


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
@override_settings(DB_PREPARE_STATEMENTS=False)
def test_the_setting_turns_preparing_off() -> None:
    assert run(db.PREPARE_THRESHOLD + 3, "deskpilot_unprepared_probe")[-1] == db.PREPARE_THRESHOLD + 3
    assert not any("deskpilot_unprepared_probe" in statement for statement in prepared_statements())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
def test_elsewhere_it_is_djangos_cursor() -> None:
    with CaptureQueriesContext(connection) as captured:
        assert run(3, "deskpilot_prepared_probe") == [1, 2, 3]
    assert [q["sql"] for q in captured.captured_queries] == [
        "SELECT 0 + 1 AS deskpilot_prepared_probe",
        "SELECT 1 + 1 AS deskpilot_prepared_probe",
        "SELECT 2 + 1 AS deskpilot_prepared_probe",
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_one_prepared_statement_whatever_the_values() -> None:
    """An int's size or a None does not make another prepared statement: values go untyped and
    the server types them from the statement."""
    statement = "SELECT COALESCE(%s::bigint, 0) + %s::bigint AS deskpilot_untyped_probe, %s::timestamptz, %s::boolean"
    at = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
    values = [[1, 2, at, True], [None, 70_000, None, False], [2**40, 3, at, None], [5, -(2**33), None, True]] * 2
    answers = []
    for params in values:
        with db.prepared_cursor() as cursor:
            cursor.execute(statement, params)
            answers.append(cursor.fetchone())
    assert answers[:4] == [(3, at, True), (70_000, None, False), (2**40 + 3, at, None), (5 - 2**33, None, True)]
    assert sum("deskpilot_untyped_probe" in s for s in prepared_statements()) == 1
