"""The demo writer's PostgreSQL load path: indexes built after the load, search documents in bulk."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection

from deskpilot.core import search
from deskpilot.demo import generator, simulate, writer
from deskpilot.tickets.models import Ticket
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's bulk-load path"),
]

NOW = datetime.datetime(2026, 3, 2, 12, 0, tzinfo=datetime.UTC)


def _generate(tickets: int = 150, **kwargs: Any) -> generator.Result:
    return generator.generate(tickets=tickets, days=20, seed=11, now=NOW, **kwargs)


def _indexes() -> set[tuple[str, str]]:
    """(name, definition) of every index of the ticket tables and the search table."""
    tables = writer.Writer()._ticket_table_names()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(%s)",
            [tables],
        )
        return set(cursor.fetchall())


def _record_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [writer.DEFERRED_INDEXES])
        return bool(cursor.fetchone()[0])


@pytest.fixture
def dropped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many indexes each defer_indexes call dropped during the test."""
    counts: list[int] = []
    original = writer.Writer.defer_indexes

    def spy(self: writer.Writer) -> int:
        counts.append(original(self))
        return counts[-1]

    monkeypatch.setattr(writer.Writer, "defer_indexes", spy)
    return counts


def test_a_load_into_empty_tables_rebuilds_exactly_the_same_indexes(dropped):
    before = _indexes()
    # The secondary indexes, including the search table's two GIN indexes, are among them.
    assert {"ticket_search_public_gin", "ticket_search_all_gin", "event_ticket_created"} <= {n for n, _ in before}
    _generate()
    assert len(dropped) == 1
    assert dropped[0] >= 20  # the load really ran without them
    assert _indexes() == before
    assert not _record_exists()
    assert Ticket.objects.count() == 150


def test_appending_to_a_database_with_tickets_keeps_its_indexes(dropped, monkeypatch):
    factories.ticket()
    before = _indexes()
    seen: list[set[tuple[str, str]]] = []
    original = writer.Writer.write_batch

    def watched(self: writer.Writer, batch: simulate.Batch) -> None:
        seen.append(_indexes())
        original(self, batch)

    monkeypatch.setattr(writer.Writer, "write_batch", watched)
    _generate(batch_size=50)
    assert dropped == [0]
    assert len(seen) == 3
    assert all(indexes == before for indexes in seen)


def test_an_interrupted_load_still_rebuilds_the_indexes(monkeypatch):
    before = _indexes()
    original = writer.Writer.write_batch
    calls = {"n": 0}

    def interrupted(self: writer.Writer, batch: simulate.Batch) -> None:
        calls["n"] += 1
        original(self, batch)
        if calls["n"] == 2:
            assert _indexes() != before  # loading without them
            raise KeyboardInterrupt

    monkeypatch.setattr(writer.Writer, "write_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _generate(batch_size=50)
    assert _indexes() == before
    assert not _record_exists()
    assert Ticket.objects.count() == 50  # the first batch; the second rolled back


def test_indexes_dropped_by_a_killed_load_are_rebuilt_by_the_next_run():
    before = _indexes()
    # A load killed outright (no finally runs) after dropping the indexes and writing nothing.
    assert writer.Writer().defer_indexes() > 0
    assert _record_exists()
    assert len(_indexes()) < len(before)
    assert writer.Writer().deferred_indexes() == len(before) - len(_indexes())
    _generate()
    assert _indexes() == before
    assert not _record_exists()


def test_bulk_search_documents_equal_what_the_search_backend_writes():
    long_text = "word " * 30_000  # beyond the per-write clip
    docs = [
        (1, "Café déjà vu", "Crème brûlée is ﬁne", "naïve note"),
        (2, "Password reset", "The email never arrives.\nThanks, Zoë", ""),
        (3, "Export", long_text, "Ångström " + long_text),
        (4, "", "", "only internal: bob@example.com v1.2.3 https://example.com/x?y=1"),
    ]
    with connection.cursor() as cursor:
        search.backend().replace(search.SearchDocument(*d) for d in docs)
        cursor.execute(f"SELECT ticket_id, public_doc::text, all_doc::text FROM {search.TABLE} ORDER BY 1")
        expected = cursor.fetchall()
        cursor.execute(f"DELETE FROM {search.TABLE}")
        writer.Writer().write_documents(docs)
        cursor.execute(f"SELECT ticket_id, public_doc::text, all_doc::text FROM {search.TABLE} ORDER BY 1")
        assert cursor.fetchall() == expected
        # A second batch in the same transaction (as in a test, or a rerun) starts from an empty
        # staging table.
        writer.Writer().write_documents([(5, "Another", "one", "")])
        cursor.execute(f"SELECT count(*) FROM {search.TABLE}")
        assert cursor.fetchone()[0] == 5
    assert len(expected) == 4
    assert "'cafe':1A" in expected[0][1]
