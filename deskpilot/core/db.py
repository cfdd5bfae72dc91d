"""Database helpers shared by the apps.

``prepared_cursor``: a cursor for the few statements every ticket change runs (its events read,
its metrics record and rollups written, the configuration stamps). On PostgreSQL it binds
parameters on the server, so psycopg prepares a statement the connection has run a few times
(``PREPARE_THRESHOLD``) and the server skips parsing and planning it again: the metrics record's
upsert names 45 columns, and planning it cost more than running it. Django's own cursors bind
on the client (its default, kept for every ORM query: some of its SQL relies on it), which never
prepares.

Set ``DESKPILOT_DB_PREPARE=0`` behind a connection pooler that cannot keep prepared statements
(PgBouncer before 1.21 in transaction mode); the statements then run unprepared, as before.
Elsewhere the cursor is Django's own.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

# How many runs of a statement on one connection before psycopg prepares it.
PREPARE_THRESHOLD = 2


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's server-binding cursor that keeps the statement it ran for Django's query log
    (``last_executed_query`` reads ``_query``, which psycopg leaves empty when it runs a
    prepared statement; a test checks the log)."""

    def _send_query_prepared(self, name: bytes, pgq: Any, *, binary: bool | None = None) -> None:
        super()._send_query_prepared(name, pgq, binary=binary)
        self._query = pgq


def prepare_enabled() -> bool:
    return bool(getattr(settings, "DB_PREPARE_STATEMENTS", True))


def prepared_cursor() -> Any:
    """A cursor (Django's wrapper: query logging and ``execute_wrapper`` see its statements)
    whose statements PostgreSQL prepares; Django's plain cursor elsewhere or when disabled."""
    if connection.vendor != "postgresql" or not prepare_enabled():
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the whole connection; only these cursors use it.
        raw.prepare_threshold = PREPARE_THRESHOLD
    return connection._prepare_cursor(_PreparedCursor(raw))  # type: ignore[attr-defined]  # Django's wrapping of a cursor
