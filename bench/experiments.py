"""Proposed changes, measured without editing the product: A/B runs of bench.latency.

    .venv/bin/python -m bench.experiments search-newest-first --db sqlite
    .venv/bin/python -m bench.experiments lean-relations --db postgres
    .venv/bin/python -m bench.experiments pg-search-statistics

Each experiment runs the unchanged code (A) and the proposal (B) alternately, twice each, on the
benchmark database (prepare it first with ``make bench``), in child processes; the proposal is
applied in its child only, by replacing functions (a monkeypatch) or, for PostgreSQL settings,
by changing the database and changing it back afterwards. The figures behind the proposals in
docs/performance.md come from here. Once a proposal is in the product, its experiment goes.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_TICKETS, PYTHON, REPO, BenchDatabase

EXPERIMENTS = {
    "search-newest-first": (
        "SQLite: search walks the index's matches newest first in growing chunks instead of materialising every match",
        "search_common,search_rare,search_two_words",
    ),
    "lean-relations": (
        "list and detail load tags, e-mail addresses, CCs, followers and attachments with one plain query each, "
        "without prefetch_related's per-row querysets",
        "list,detail",
    ),
    "pg-search-statistics": (
        "PostgreSQL: statistics target 1000 on ticket_search's tsvector columns",
        "search_common,search_rare,search_two_words",
    ),
}


# --- the proposals, as they would read in the product --------------------------------------------


def _search_newest_first() -> None:
    """Proposed for deskpilot/core/search.py and deskpilot/tickets/queries.py."""
    from django.db import connection
    from django.db.models import Prefetch, prefetch_related_objects

    from deskpilot.core import search
    from deskpilot.core.api_support import MAX_PAGE_SIZE, decode_cursor, encode_cursor
    from deskpilot.core.errors import InvalidInput
    from deskpilot.customers.models import CustomerEmail
    from deskpilot.tickets import permissions, queries

    chunks = (100, 1_000, 10_000)
    original = queries.ticket_page

    def matching_ids_newest_first(query: str, *, include_internal: bool, before: int | None, limit: int) -> list[int]:
        terms = search.parse_query(query)
        if not any(not t.negated for t in terms):
            return []
        expression = search.backend().matching_ids(terms, include_internal=include_internal)
        sql, params = expression.sql, list(expression.params)
        # FTS5 reads its match lists in rowid order, so this stops after `limit` matches.
        if before is not None:
            sql += " AND rowid < %s"
            params.append(before)
        sql += " ORDER BY rowid DESC LIMIT %s"
        params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def ticket_page(user: Any, filters: Any, *, ordering: Any, cursor: str | None, limit: int) -> Any:
        if connection.vendor != "sqlite" or filters.q is None or ordering.column != "id" or not ordering.descending:
            return original(user, filters, ordering=ordering, cursor=cursor, limit=limit)
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        if not filters.q.strip():
            raise InvalidInput("q", "must not be empty")
        base = queries.filter_tickets(user, dataclasses.replace(filters, q=None)).order_by("-id")
        before = int(decode_cursor(cursor, ordering)[1]) if cursor else None
        include_internal = permissions.sees_internal(user)
        rows: list[Any] = []
        for size in chunks:
            ids = matching_ids_newest_first(filters.q, include_internal=include_internal, before=before, limit=size)
            if ids:
                rows += list(base.filter(pk__in=ids)[: limit + 1 - len(rows)])
            if len(rows) > limit or len(ids) < size:
                break
            before = ids[-1]
        else:
            # Many matches, few of them pass the other filters: the rest in one query, as before.
            expression = search.matching_ids(filters.q, include_internal=include_internal)
            rows += list(base.filter(pk__lt=before, pk__in=expression)[: limit + 1 - len(rows)])
        next_cursor = encode_cursor(ordering, rows[limit - 1]) if len(rows) > limit else None
        rows = rows[:limit]
        if rows:
            emails = Prefetch("requester__emails", queryset=CustomerEmail.objects.order_by("-is_primary", "id"))
            prefetch_related_objects(rows, "tags", emails)
        return rows, next_cursor

    queries.ticket_page = ticket_page


def _lean_relations() -> None:
    """Proposed for deskpilot/tickets/queries.py: fill what the schemas read with one plain query
    per relation. (In the product this would rather be typed attributes the schemas read; the
    experiment fills Django's prefetch cache so schemas.py stays as it is.)"""
    from deskpilot.accounts.models import User
    from deskpilot.core.api_support import keyset_page
    from deskpilot.customers.models import Customer, CustomerEmail
    from deskpilot.tickets import permissions, queries
    from deskpilot.tickets.models import Attachment, Message, Tag, TicketLink, TicketTag

    def remember(instance: Any, name: str, values: list[Any]) -> None:
        cache = getattr(instance, "_prefetched_objects_cache", None)
        if cache is None:
            cache = instance._prefetched_objects_cache = {}
        cache[name] = values

    def attach_emails(customers: dict[int, Any]) -> None:
        emails: dict[int, list[Any]] = collections.defaultdict(list)
        for email in CustomerEmail.objects.filter(customer_id__in=list(customers)).order_by("-is_primary", "id"):
            emails[email.customer_id].append(email)
        for pk, customer in customers.items():
            remember(customer, "emails", emails[pk])

    def attach_list_relations(rows: list[Any]) -> None:
        tags: dict[int, list[Tag]] = collections.defaultdict(list)
        pairs = TicketTag.objects.filter(ticket_id__in=[t.pk for t in rows]).values_list(
            "ticket_id", "tag_id", "tag__name"
        )
        for ticket_id, tag_id, name in pairs:
            tags[ticket_id].append(Tag(id=tag_id, name=name))
        attach_emails({t.requester_id: t.requester for t in rows})
        for ticket in rows:
            remember(ticket, "tags", tags[ticket.pk])

    def ticket_page(user: Any, filters: Any, *, ordering: Any, cursor: str | None, limit: int) -> Any:
        rows, next_cursor = keyset_page(
            queries.filter_tickets(user, filters), ordering=ordering, cursor=cursor, limit=limit
        )
        if rows:
            attach_list_relations(rows)
        return rows, next_cursor

    def ticket_detail(user: Any, ticket_id: int) -> Any:
        show_internal = permissions.sees_internal(user)
        ticket = permissions.get_visible_ticket(user, ticket_id, queries.list_base(user))
        attach_list_relations([ticket])
        ccs = list(Customer.objects.filter(cc_tickets=ticket).order_by("name", "id"))
        attach_emails({c.pk: c for c in ccs})
        remember(ticket, "ccs", ccs)
        if show_internal:
            remember(ticket, "followers", list(User.objects.filter(followed_tickets=ticket)))
        messages_qs = Message.objects.filter(ticket=ticket).select_related("author_user", "author_customer")
        messages = list(messages_qs if show_internal else messages_qs.filter(public=True))
        files: dict[int, list[Any]] = collections.defaultdict(list)
        for attachment in Attachment.objects.filter(message_id__in=[m.pk for m in messages]).order_by("id"):
            files[attachment.message_id].append(attachment)
        for message in messages:
            remember(message, "attachments", files[message.pk])
        links = list(
            TicketLink.objects.filter(source=ticket).select_related("target")
            | TicketLink.objects.filter(target=ticket).select_related("source")
        )
        return queries.TicketDetail(ticket=ticket, messages=messages, links=links, show_internal=show_internal)

    queries.ticket_page = ticket_page
    queries.ticket_detail = ticket_detail


PG_STATISTICS = [
    "ALTER TABLE ticket_search ALTER COLUMN all_doc SET STATISTICS {target}",
    "ALTER TABLE ticket_search ALTER COLUMN public_doc SET STATISTICS {target}",
    "ANALYZE ticket_search",
]


def _pg_statistics(target: int) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("pg-search-statistics needs the PostgreSQL benchmark database")
    with connection.cursor() as cursor:
        for statement in PG_STATISTICS:
            cursor.execute(statement.format(target=int(target)))


# --- running -------------------------------------------------------------------------------------


def child(name: str, latency_args: list[str]) -> int:
    """In the child process: apply the proposal, run bench.latency, undo what lives in the database."""
    from bench import latency  # configures Django

    if name == "search-newest-first":
        _search_newest_first()
    elif name == "lean-relations":
        _lean_relations()
    elif name == "pg-search-statistics":
        _pg_statistics(1000)
    try:
        return latency.main(latency_args)
    finally:
        if name == "pg-search-statistics":
            _pg_statistics(-1)  # back to the server's default_statistics_target


def _run(db: BenchDatabase, variant: str, name: str, scenarios: str, requests: int, workdir: Path) -> dict[str, Any]:
    out = workdir / f"{variant}.json"
    args = ["--out", str(out), "--fixtures-out", str(workdir / "fixtures.json")]
    args += ["--requests", str(requests), "--warmup", "30", "--scenarios", scenarios]
    command = [PYTHON, "-m", "bench.latency", *args]
    if variant == "B":
        command = [PYTHON, "-m", "bench.experiments", "--child", name, "--", *args]
    print(f"  {variant}: {'proposal' if variant == 'B' else 'as is'}", flush=True)
    completed = subprocess.run(command, cwd=REPO, env=db.env(), check=False, timeout=3600)
    if completed.returncode != 0:
        raise SystemExit(f"the {variant} run failed with exit status {completed.returncode}")
    scenarios_out: dict[str, Any] = json.loads(out.read_text())["scenarios"]
    return scenarios_out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(argv)
    engine = args.db or ("postgres" if args.experiment.startswith("pg-") else "sqlite")
    db = BenchDatabase(engine, args.tickets)
    if not db.marker.exists():
        raise SystemExit(f"no benchmark database at {db.data_dir}: run make bench (or --prepare-only) first")
    description, scenarios = EXPERIMENTS[args.experiment]
    print(f"{args.experiment} on {db.label}, {db.tickets:,} tickets: {description}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    with tempfile.TemporaryDirectory(dir=db.data_dir, prefix="bench-experiment-") as tmp:
        for variant in ("A", "B", "A", "B"):
            runs[variant].append(_run(db, variant, args.experiment, scenarios, args.requests, Path(tmp)))
    print("\n| Scenario | run | A p50 | A p95 | A CPU p50 | B p50 | B p95 | B CPU p50 |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario in scenarios.split(","):
        for i in range(2):
            a, b = runs["A"][i].get(scenario), runs["B"][i].get(scenario)
            if not a or not b:
                continue
            print(
                f"| {scenario} | {i + 1} | {a['ms']['p50']:.1f} | {a['ms']['p95']:.1f} | {a['cpu_ms']['p50']:.1f} "
                f"| {b['ms']['p50']:.1f} | {b['ms']['p95']:.1f} | {b['cpu_ms']['p50']:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
