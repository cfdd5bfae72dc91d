"""Writing the simulated rows fast: numbered by us, inserted in bulk, one transaction per batch.

The rows carry their own ids, so messages, events and search documents can refer to each other
before anything is written. Ids continue from the highest id the table ever had (the row maximum
or the id sequence, whichever is ahead), so a rerun appends and ticket numbers are never reused.
Each batch first checks, inside its transaction, that nobody else took those ids since the run
began; PostgreSQL's sequences are moved past the batch so later normal inserts work.

SQLite gets multi-row INSERT statements on the raw connection (see ``_rows_per_statement``);
PostgreSQL gets ``COPY``, its bulk-load path, and, when the ticket tables start empty, loads them
without their secondary indexes and builds those once at the end (see ``defer_indexes``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Field, Model

from deskpilot.core import search
from deskpilot.customers.models import Customer, CustomerEmail, Organization
from deskpilot.demo.simulate import Batch, TimeFormat
from deskpilot.tickets.models import Message, Ticket, TicketEvent, TicketTag

# Field names (attnames) in the order the simulation writes them.
COLUMNS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "ticket": (
        Ticket,
        (
            "id",
            "subject",
            "status",
            "priority",
            "type",
            "channel",
            "custom_fields",
            "created_at",
            "updated_at",
            "solved_at",
            "closed_at",
            "version",
            "assignee_id",
            "organization_id",
            "requester_id",
            "team_id",
        ),
    ),
    "message": (
        Message,
        (
            "id",
            "ticket_id",
            "author_user_id",
            "author_customer_id",
            "public",
            "body_text",
            "body_html",
            "via",
            "created_at",
        ),
    ),
    "event": (
        TicketEvent,
        (
            "id",
            "ticket_id",
            "field",
            "old",
            "new",
            "actor_user_id",
            "actor_customer_id",
            "via",
            "message_id",
            "created_at",
        ),
    ),
    "ticket_tag": (TicketTag, ("id", "ticket_id", "tag_id")),
    "cc": (Ticket.ccs.through, ("id", "ticket_id", "customer_id")),
    "organization": (Organization, ("id", "name", "domains", "tier", "notes", "shared_tickets", "created_at")),
    "customer": (
        Customer,
        ("id", "name", "tier", "time_zone", "language", "notes", "created_at", "user_id", "organization_id"),
    ),
    "customer_email": (CustomerEmail, ("id", "customer_id", "address", "is_primary", "created_at", "bounce_reason")),
}
# Page cache for the load connection (KiB): the ticket, message and event indexes of a million
# tickets are a few hundred megabytes, and the machine has memory to spare for a one-off load.
BULK_CACHE_KIB = 512 * 1024
TICKET_TABLES = ("ticket", "message", "event", "ticket_tag", "cc")
PEOPLE_TABLES = ("organization", "customer", "customer_email")
# PostgreSQL: the secondary indexes dropped for a load into empty ticket tables, kept here (a
# real table, so it survives a crash) until each is built again; see ``defer_indexes``.
DEFERRED_INDEXES = "deskpilot_demo_deferred_index"
# Memory for each index build: a B-tree of ten million events sorts in memory with this, and a
# GIN index collects its entries in memory before writing them (the server default is 64 MB).
INDEX_BUILD_MEMORY = "1GB"
# PostgreSQL: the search texts of a batch, copied here first and turned into tsvectors by one
# INSERT ... SELECT (a temporary table: never written to the WAL, private to this session).
DOCUMENTS_STAGING = "deskpilot_demo_documents"
_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX ")


def _rows_per_statement(columns: int) -> int:
    """Rows per INSERT on SQLite. One statement with many VALUES rows costs 40 % less than the
    same rows through executemany, because SQLite opens its cursors on the table and each index
    once per statement instead of once per row. Bounded by the host-parameter limit (32766 since
    SQLite 3.32, 999 before); a hundred rows get nearly all the gain."""
    limit = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999
    return max(1, min(100, limit // columns))


def _multi_row_insert(table: str, quoted_columns: str, columns: int, rows: int) -> str:
    one = "(" + ", ".join("?" * columns) + ")"
    return f'INSERT INTO "{table}" ({quoted_columns}) VALUES ' + ", ".join([one] * rows)


class IdsTaken(Exception):
    """Another process wrote rows into the id range this run had planned to use."""


def _table(key: str) -> str:
    return COLUMNS[key][0]._meta.db_table


def _column_names(key: str) -> list[str]:
    model, names = COLUMNS[key]
    columns = []
    for name in names:
        field = model._meta.get_field(name if name == "id" else name.removesuffix("_id"))
        assert isinstance(field, Field)
        assert field.column is not None
        columns.append(field.column)
    return columns


class Writer:
    """Bulk inserts for the current database connection (SQLite or PostgreSQL)."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"demo data cannot be written to {self.vendor}")
        self.postgres = self.vendor == "postgresql"
        # SQLite keeps Django datetimes as naive UTC text; PostgreSQL needs the offset.
        self.time_format = TimeFormat("+00:00" if self.postgres else "")
        self._sql: dict[str, str] = {}
        self._sequences: dict[str, str] = {}
        self._skip_fk_triggers: bool | None = None  # None: not tried yet

    # --- ids -----------------------------------------------------------------------------------

    def _high_water(self, key: str) -> int:
        """The highest id the table has used: its largest row id, or the sequence if ahead."""
        table = _table(key)
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT MAX("id") FROM "{table}"')
            highest = cursor.fetchone()[0] or 0
            if self.postgres:
                cursor.execute(f"SELECT last_value, is_called FROM {self._sequence(key)}")
                last_value, is_called = cursor.fetchone()
                used = last_value if is_called else last_value - 1
            else:
                # AUTOINCREMENT tables remember their largest id ever in sqlite_sequence.
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                used = row[0] if row else 0
        return max(int(highest), int(used))

    def _sequence(self, key: str) -> str:
        if key not in self._sequences:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [f'"{_table(key)}"'])
                self._sequences[key] = cursor.fetchone()[0]
        return self._sequences[key]

    def next_ids(self, keys: Iterable[str]) -> dict[str, int]:
        return {key: self._high_water(key) + 1 for key in keys}

    def begin_batch(self, keys: Sequence[str]) -> None:
        """Prepare the current transaction for one batch (PostgreSQL only; SQLite's IMMEDIATE
        transaction already holds the database's write lock).

        Other writers are kept out of these tables until the batch commits; readers are not
        blocked. Foreign-key triggers are skipped for this transaction when the role may do so
        (``session_replication_role``, a superuser setting by default): the ids written were just
        read from, or numbered after, the rows they point to, and checking them one by one at
        commit costs as much as the inserts themselves."""
        if not self.postgres:
            return
        tables = ", ".join(f'"{_table(k)}"' for k in keys)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        if self._skip_fk_triggers is False:
            return
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            self._skip_fk_triggers = True
        except DatabaseError:
            self._skip_fk_triggers = False  # not permitted: the checks run, which is only slower

    def end_batch(self) -> None:
        """Triggers on again for the rest of the transaction (``begin_batch`` turned them off for
        the batch's rows only): a caller's transaction may go on to write what triggers watch,
        such as the SLA configuration's change log (``policies.config_version``)."""
        if self.postgres and self._skip_fk_triggers:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")

    def check_free(self, first_ids: dict[str, int]) -> None:
        for key, first in first_ids.items():
            if self._high_water(key) >= first:
                raise IdsTaken(
                    f"another process added rows to {_table(key)} while demo data was being written; "
                    "the batches written so far are complete, run the command again to add more"
                )

    def advance_sequences(self, last_ids: dict[str, int]) -> None:
        """Move PostgreSQL sequences past the ids just written, so the next normal insert gets a
        fresh id (as ``sqlsequencereset`` would). SQLite's sqlite_sequence follows by itself."""
        if not self.postgres:
            return
        with connection.cursor() as cursor:
            for key, last in last_ids.items():
                cursor.execute(f"SELECT setval('{self._sequence(key)}', %s, true)", [last])

    # --- indexes (PostgreSQL) -------------------------------------------------------------------

    def _ticket_table_names(self) -> list[str]:
        return [*(_table(key) for key in TICKET_TABLES), search.TABLE]

    def defer_indexes(self) -> int:
        """Drop the secondary indexes of the ticket tables (and the search table's GIN indexes)
        when all of them are empty, so the load does not maintain a dozen B-trees and two GIN
        indexes row by row; ``restore_indexes`` builds them once at the end, which is several
        times faster. Primary keys and unique indexes stay: they keep the data correct and are
        cheap (ids arrive in order). Returns how many indexes were dropped; none when a table
        has rows (appending to a live database keeps its indexes) or on SQLite.

        Each definition is saved in a table before its index is dropped, in the same
        transaction, so an interrupted load (even a killed process) leaves a record from which
        the next run's ``restore_indexes`` rebuilds exactly the indexes that were there."""
        if not self.postgres:
            return 0
        tables = self._ticket_table_names()
        with transaction.atomic(), connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'SELECT EXISTS (SELECT FROM "{table}")')
                if cursor.fetchone()[0]:
                    return 0
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                " JOIN pg_class c ON c.relname = i.indexname"
                " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname"
                " JOIN pg_index x ON x.indexrelid = c.oid"
                " WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) AND NOT x.indisunique"
                " AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = c.oid)"
                " ORDER BY i.tablename, i.indexname",
                [tables],
            )
            indexes = cursor.fetchall()
            if not indexes:
                return 0
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {DEFERRED_INDEXES} (name text PRIMARY KEY, definition text NOT NULL)"
            )
            cursor.executemany(
                f"INSERT INTO {DEFERRED_INDEXES} (name, definition) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                indexes,
            )
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        return len(indexes)

    def deferred_indexes(self) -> int:
        """How many dropped indexes wait to be built again (by ``restore_indexes``)."""
        if not self.postgres:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [DEFERRED_INDEXES])
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(f"SELECT count(*) FROM {DEFERRED_INDEXES}")
            return int(cursor.fetchone()[0])

    def restore_indexes(self) -> int:
        """Build every index ``defer_indexes`` dropped, from its saved definition, one
        transaction each (an interruption keeps the ones built), then forget the record.
        Returns how many were built."""
        if not self.deferred_indexes():
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT name, definition FROM {DEFERRED_INDEXES} ORDER BY name")
            indexes = cursor.fetchall()
        for name, definition in indexes:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
                # IF NOT EXISTS: an earlier, interrupted restore may have built it already.
                cursor.execute(_CREATE_INDEX.sub(r"CREATE \1INDEX IF NOT EXISTS ", definition, count=1))
                cursor.execute(f"DELETE FROM {DEFERRED_INDEXES} WHERE name = %s", [name])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {DEFERRED_INDEXES}")
            cursor.execute(f"SELECT EXISTS (SELECT FROM {DEFERRED_INDEXES})")
            if not cursor.fetchone()[0]:
                cursor.execute(f"DROP TABLE {DEFERRED_INDEXES}")
        return len(indexes)

    # --- rows ----------------------------------------------------------------------------------

    def insert(self, key: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = _column_names(key)
        table = _table(key)
        quoted = ", ".join(f'"{c}"' for c in columns)
        if self.postgres:
            with connection.cursor() as cursor, cursor.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            return
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        cursor = raw.cursor()
        per = _rows_per_statement(len(columns))
        statement = self._sql.get(key)
        if statement is None:
            statement = self._sql[key] = _multi_row_insert(table, quoted, len(columns), per)
        for start in range(0, len(rows), per):
            part = rows[start : start + per]
            sql = statement if len(part) == per else _multi_row_insert(table, quoted, len(columns), len(part))
            cursor.execute(sql, list(chain.from_iterable(part)))
        cursor.close()

    def write_documents(self, documents: list[tuple[int, str, str, str]]) -> None:
        """The search documents of new tickets: what ``search.backend().replace`` writes, faster.

        On PostgreSQL, ``replace`` sends one INSERT per document and computes the subject's and
        the public text's tsvectors twice (once for each column); that was more than half of a
        load's time. Here the folded texts are copied into a temporary table and one INSERT ...
        SELECT computes each tsvector once (``OFFSET 0`` keeps the planner from inlining the
        subquery, which would compute it twice again). The documents are identical (a test
        compares them with ``replace``'s). Folding, accent stripping in Python, is skipped for
        ASCII text, where it changes nothing but costs as much as the database work."""
        if not self.postgres:
            search.backend().replace(search.SearchDocument(*doc) for doc in documents)
            return
        if not documents:
            return
        c = search._PostgresTsvector._CONFIG
        table = search.TABLE
        staging = DOCUMENTS_STAGING
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (id bigint, subj text, pub text, internal text)"
            )
            with cursor.cursor.copy(f"COPY {staging} (id, subj, pub, internal) FROM STDIN") as copy:
                for doc_id, *texts in documents:
                    copy.write_row(
                        [doc_id, *(t[: search._MAX_CHARS_PER_WRITE] if t.isascii() else search._fold(t) for t in texts)]
                    )
            cursor.execute(
                f"INSERT INTO {table} (ticket_id, public_doc, all_doc)"
                f" SELECT id, pub, pub || to_tsvector('{c}', internal) FROM"
                f" (SELECT id, setweight(to_tsvector('{c}', subj), 'A') || to_tsvector('{c}', pub) AS pub, internal"
                f" FROM {staging} OFFSET 0) AS doc"
                " ON CONFLICT (ticket_id) DO UPDATE SET public_doc = EXCLUDED.public_doc, all_doc = EXCLUDED.all_doc"
            )
            cursor.execute(f"TRUNCATE {staging}")

    def write_batch(self, batch: Batch) -> None:
        """All rows of one simulated batch and their search documents. Call inside a transaction."""
        self.begin_batch(TICKET_TABLES)
        self.check_free(batch.first_ids)
        self.insert("ticket", batch.tickets)
        self.insert("message", batch.messages)
        self.insert("event", batch.events)
        self.insert("ticket_tag", batch.ticket_tags)
        self.insert("cc", batch.ccs)
        self.write_documents(batch.documents)
        last_ids = {}
        for key, rows in (("ticket", batch.tickets), ("message", batch.messages), ("event", batch.events),
                          ("ticket_tag", batch.ticket_tags), ("cc", batch.ccs)):  # fmt: skip
            if rows:
                last_ids[key] = rows[-1][0]
        self.advance_sequences(last_ids)
        self.end_batch()

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Connection settings for a long load, restored afterwards (SQLite only).

        Foreign-key checks are off because every id written was just read from, or numbered
        after, the rows it points to; they cost a parent lookup per reference, a fifth of the
        insert time. A larger page cache keeps the indexes that grow in random order (by
        customer, by update time) in memory between batches."""
        if self.postgres:
            yield
            return
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys")
            foreign_keys = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size")
            cache_size = cursor.fetchone()[0]
            # Only outside a transaction does SQLite accept a change of foreign_keys.
            if connection.in_atomic_block:
                foreign_keys = None
            else:
                cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                if foreign_keys is not None:
                    cursor.execute(f"PRAGMA foreign_keys = {int(foreign_keys)}")
                cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")

    def finish(self) -> None:
        """Refresh the query planner's statistics of the tables just filled, so the first pages
        after a large load get good plans. On SQLite, a sampled ANALYZE (analysis_limit) takes
        seconds even for millions of rows."""
        with connection.cursor() as cursor:
            if not self.postgres:
                cursor.execute("PRAGMA analysis_limit = 1000")
            for key in (*TICKET_TABLES, *PEOPLE_TABLES):
                cursor.execute(f'ANALYZE "{_table(key)}"')
