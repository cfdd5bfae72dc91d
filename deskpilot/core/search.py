"""Full-text search behind one small interface: SQLite FTS5 by default, PostgreSQL tsvector + GIN
when the database is PostgreSQL. No extra server either way.

A search document has an id (the ticket's), a subject, public text and internal text. Callers
search either everything (staff) or only subject and public text (customers), so an internal
note can never be found, or its existence guessed, by someone who may not read it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL

TABLE = "ticket_search"
# A tsvector holds at most 1 MB; text beyond this per write is not indexed (it is still stored).
_MAX_CHARS_PER_WRITE = 100_000

_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
_WORD_CHARS = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class SearchDocument:
    doc_id: int
    subject: str
    public_text: str
    internal_text: str


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool


def parse_query(query: str) -> list[Term]:
    """Words and "quoted phrases"; a leading minus excludes. Terms without a letter or digit are
    dropped, since neither engine can match them."""
    terms: list[Term] = []
    for match in _TERM.finditer(query):
        neg_phrase, phrase, neg_word, word = match.groups()
        text = phrase if phrase is not None else word
        negated = bool(neg_phrase or neg_word)
        if text and _WORD_CHARS.search(text):
            terms.append(Term(text=text, negated=negated))
    return terms


def _clip(text: str) -> str:
    return text[:_MAX_CHARS_PER_WRITE]


def _fold(text: str) -> str:
    """Clipped text without diacritics ("Café" → "Cafe"). Fix: PostgreSQL's 'simple'
    configuration keeps accents, so "cafe" did not find "Café" there while SQLite's
    remove_diacritics did; folding documents and queries the same way makes both agree."""
    decomposed = unicodedata.normalize("NFKD", _clip(text))
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


class _SqliteFts5:
    def create_schema(self) -> list[str]:
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
            "subject, public_text, internal_text, tokenize='unicode61 remove_diacritics 2')"
        ]

    def drop_schema(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {TABLE}"]

    def replace(self, docs: Iterable[SearchDocument]) -> None:
        rows = [(d.doc_id, _clip(d.subject), _clip(d.public_text), _clip(d.internal_text)) for d in docs]
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = %s", [(r[0],) for r in rows])
            cursor.executemany(
                f"INSERT INTO {TABLE}(rowid, subject, public_text, internal_text) VALUES (%s, %s, %s, %s)", rows
            )

    def append(self, doc_id: int, text: str, *, public: bool) -> None:
        column = "public_text" if public else "internal_text"
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET {column} = {column} || char(10) || %s WHERE rowid = %s", [_clip(text), doc_id]
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO {TABLE}(rowid, subject, public_text, internal_text) VALUES (%s, '', %s, %s)",
                    [doc_id, _clip(text) if public else "", "" if public else _clip(text)],
                )

    def delete(self, doc_ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = %s", [(i,) for i in doc_ids])

    def matching_ids(self, terms: list[Term], *, include_internal: bool) -> RawSQL:
        def quoted(term: Term) -> str:
            return '"' + term.text.replace('"', '""') + '"'

        positive = " ".join(quoted(t) for t in terms if not t.negated)
        negative = " ".join(f"NOT {quoted(t)}" for t in terms if t.negated)
        expression = f"({positive}) {negative}".strip()
        if not include_internal:
            # Fix: the column filter must cover the negations too. "{cols} : (a) NOT b" filters
            # only (a), so NOT b looked into internal notes, and a customer could learn what a
            # note says by watching their own ticket drop out of "word -secret".
            expression = "{subject public_text} : (" + expression + ")"
        # The user's words travel only as a parameter.
        return RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [expression])  # noqa: S611

    def newest_matching_ids(
        self, terms: list[Term], *, include_internal: bool, below: int | None, limit: int
    ) -> list[int]:
        """The ``limit`` highest matching ids below ``below``, highest first. FTS5 reads its
        match lists in rowid order, so this stops after ``limit`` matches instead of
        materialising every match (a common word matches most of a million tickets)."""
        expression = self.matching_ids(terms, include_internal=include_internal)
        sql, params = expression.sql, list(expression.params)
        if below is not None:
            sql += " AND rowid < %s"
            params.append(below)
        sql += " ORDER BY rowid DESC LIMIT %s"
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]


class _PostgresTsvector:
    # 'simple' configuration: no language-specific stemming, so every language a support team
    # receives is searched the same way.
    _CONFIG = "simple"

    def create_schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            # No foreign key to the tickets table: Django's flush truncates the tables of its
            # models only, and PostgreSQL refuses to truncate a table that another references.
            # Tickets are never deleted (their history is the audit trail), so nothing dangles.
            "ticket_id bigint PRIMARY KEY, public_doc tsvector NOT NULL, all_doc tsvector NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_public_gin ON {TABLE} USING GIN (public_doc)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_all_gin ON {TABLE} USING GIN (all_doc)",
        ]

    def drop_schema(self) -> list[str]:
        return [f"DROP TABLE IF EXISTS {TABLE}"]

    def drop_ticket_foreign_key(self) -> list[str]:
        """For databases created before the table lost its foreign key (see create_schema)."""
        return [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {TABLE}_ticket_id_fkey"]

    def replace(self, docs: Iterable[SearchDocument]) -> None:
        c = self._CONFIG
        rows = [(d.doc_id, _fold(d.subject), _fold(d.public_text), _fold(d.internal_text)) for d in docs]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {TABLE}(ticket_id, public_doc, all_doc) SELECT id,"
                f" setweight(to_tsvector('{c}', subj), 'A') || to_tsvector('{c}', pub),"
                f" setweight(to_tsvector('{c}', subj), 'A') || to_tsvector('{c}', pub) || to_tsvector('{c}', internal)"
                " FROM (SELECT %s::bigint AS id, %s::text AS subj, %s::text AS pub, %s::text AS internal) AS doc"
                " ON CONFLICT (ticket_id) DO UPDATE SET public_doc = EXCLUDED.public_doc, all_doc = EXCLUDED.all_doc",
                rows,
            )

    def append(self, doc_id: int, text: str, *, public: bool) -> None:
        c = self._CONFIG
        public_part = f"to_tsvector('{c}', %s)" if public else "''::tsvector"
        params: list[int | str] = [doc_id, _fold(text), _fold(text)] if public else [doc_id, _fold(text)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE}(ticket_id, public_doc, all_doc)"
                f" VALUES (%s, {public_part}, to_tsvector('{c}', %s))"
                f" ON CONFLICT (ticket_id) DO UPDATE SET public_doc = {TABLE}.public_doc || EXCLUDED.public_doc,"
                f" all_doc = {TABLE}.all_doc || EXCLUDED.all_doc",
                params,
            )

    def delete(self, doc_ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE ticket_id = ANY(%s)", [list(doc_ids)])

    def matching_ids(self, terms: list[Term], *, include_internal: bool) -> RawSQL:
        column = "all_doc" if include_internal else "public_doc"
        # websearch_to_tsquery reads the same syntax parse_query accepts: words, "phrases", -word.
        # Fix: every term is quoted, so a word such as "or" stays a word (unquoted, websearch
        # reads it as the OR operator, which SQLite does not), and folded like the documents.
        query = " ".join(("-" if t.negated else "") + '"' + _fold(t.text).replace('"', " ") + '"' for t in terms)
        sql = f"SELECT ticket_id FROM {TABLE} WHERE {column} @@ websearch_to_tsquery('{self._CONFIG}', %s)"
        return RawSQL(sql, [query])  # noqa: S611 - the user's words travel only as a parameter


def backend() -> _SqliteFts5 | _PostgresTsvector:
    if connection.vendor == "postgresql":
        return _PostgresTsvector()
    if connection.vendor == "sqlite":
        return _SqliteFts5()
    raise NotImplementedError(f"full-text search is not available on {connection.vendor}")


def walks_newest_first() -> bool:
    """Whether the backend can list matches newest first cheaply (newest_matching_ids)."""
    return connection.vendor == "sqlite"


def newest_matching_ids(query: str, *, include_internal: bool, below: int | None, limit: int) -> list[int]:
    """Up to ``limit`` ids of documents matching ``query``, below ``below`` (when given), highest
    first; only where walks_newest_first(). Empty when the query has no positive term."""
    terms = parse_query(query)
    if not any(not t.negated for t in terms):
        return []
    engine = backend()
    if not isinstance(engine, _SqliteFts5):
        raise NotImplementedError(f"newest-first search is not available on {connection.vendor}")
    return engine.newest_matching_ids(terms, include_internal=include_internal, below=below, limit=limit)


def matching_ids(query: str, *, include_internal: bool) -> RawSQL | None:
    """A subquery of the ids of documents matching ``query``, for ``filter(pk__in=...)``; None
    when the query has no positive searchable term (it then matches nothing)."""
    terms = parse_query(query)
    if not any(not t.negated for t in terms):
        return None
    return backend().matching_ids(terms, include_internal=include_internal)
