"""Database helpers shared by the apps.

``prepared_cursor``: a cursor for the few statements every ticket change runs (its events read,
its metrics record and rollups written, the configuration stamps). On PostgreSQL it binds
parameters on the server, so psycopg prepares a statement the connection has run a few times
(``PREPARE_THRESHOLD``) and the server skips parsing and planning it again: the metrics record's
upsert names 46 values, and planning it took as long as running it. Django's own cursors bind
on the client (its default, kept for every ORM query: some of its SQL relies on it), which never
prepares. Values are sent untyped (``_Untyped``), so a statement keeps one prepared form.

Set ``DESKPILOT_DB_PREPARE=0`` behind a transaction-mode pooler that does not keep prepared
statements (PgBouncer before 1.21, or later with ``max_prepared_statements = 0``); the statements
then run unprepared. On SQLite the cursor is Django's own. Decision 0007 says more.
"""

from __future__ import annotations

import datetime
import decimal
import weakref
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from psycopg.adapt import AdaptersMap, Dumper

# How many runs of a statement on one connection before psycopg prepares it.
PREPARE_THRESHOLD = 2


class _Untyped(Dumper):
    """A value sent as text of unknown type, which the server types from the statement (the
    column it goes into, the one it is compared with, a cast). psycopg would send an int as int2,
    int4 or int8 by its size and a None as unknown: a statement's parameter types, which name its
    prepared statement, would vary with its values, and 46 nullable values make hundreds of
    variants, each prepared anew."""

    oid = 0  # unknown

    def dump(self, obj: Any) -> bytes:
        return str(obj).encode()


# Sent untyped (str and None already are); bool's str ("True") is valid boolean input.
_UNTYPED = (int, bool, float, decimal.Decimal, datetime.date, datetime.datetime, datetime.time)


# The connection's adapters with the untyped dumpers, made once per connection: registering them
# on every cursor copied the adapter tables each time (three times a cursor's own cost).
_ADAPTERS: weakref.WeakKeyDictionary[psycopg.Connection[Any], AdaptersMap] = weakref.WeakKeyDictionary()


def _untyped_adapters(connection: psycopg.Connection[Any]) -> AdaptersMap:
    found = _ADAPTERS.get(connection)
    if found is None:
        found = AdaptersMap(connection.adapters)
        for kind in _UNTYPED:
            found.register_dumper(kind, _Untyped)
        _ADAPTERS[connection] = found
    return found


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's server-binding cursor, its values sent untyped (``_Untyped``), that keeps the
    statement it ran for Django's query log (``last_executed_query`` reads ``_query``, which
    psycopg leaves empty when it runs a prepared statement; a test checks the log)."""

    def __init__(self, connection: psycopg.Connection[Any], **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self._adapters = _untyped_adapters(connection)

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
    # Django's own cursor() (health check, error wrapping, the time zone's loader) with this
    # cursor class: the connection's factory is swapped for the call. The connection is made
    # (or replaced) first, so cursor() uses the one whose factory is set.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns preparing off for the whole connection; only these cursors use it.
        raw.prepare_threshold = PREPARE_THRESHOLD
    factory = raw.cursor_factory
    raw.cursor_factory = _PreparedCursor
    try:
        return connection.cursor()
    finally:
        raw.cursor_factory = factory
