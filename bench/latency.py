"""Server time per request, measured in-process with django.test.Client.

Run by bench.run as a child process whose environment selects the database
(``python -m bench.latency --out results.json --fixtures-out fixtures.json``). The time of a
request is the wall time of ``Client.generic()``: URL resolution, every middleware, token
authentication, the view, serialisation and every query, without the network or a WSGI server.
The query count comes from a ``connection.execute_wrapper`` that only increments a counter, so
counting does not slow the queries down.

Scenarios, each warmed up and then measured with varied parameters:

- list: first page of /api/v1/tickets?status=S&team=T over every status and team
- list_unsolved: the same with two statuses (status=open,pending), the usual agent queue
- detail: /api/v1/tickets/ID for different tickets with exactly 20 messages
- create: POST /api/v1/tickets with a JSON body, for different requesters and teams
- search_common / search_rare / search_two_words: /api/v1/tickets?q=... with words taken from
  the data (their match counts are reported)

Tickets the create scenario makes are deleted again at the end, so the database keeps its size
from run to run.
"""

from __future__ import annotations

import argparse
import collections
import gc
import itertools
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskpilot.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count, Max, Min, QuerySet  # noqa: E402
from django.test import Client  # noqa: E402
from rich.progress import Progress  # noqa: E402

from bench.common import summarize_ms  # noqa: E402
from deskpilot.accounts import actions as account_actions  # noqa: E402
from deskpilot.accounts.models import ApiToken, Role, Team, User  # noqa: E402
from deskpilot.core import search  # noqa: E402
from deskpilot.customers.models import Customer  # noqa: E402
from deskpilot.demo import staff as demo_staff  # noqa: E402
from deskpilot.tickets import actions as ticket_actions  # noqa: E402
from deskpilot.tickets.models import Message, Status, Ticket, Via  # noqa: E402

BENCH_EMAIL = "bench-agent@deskpilot.invalid"
DETAIL_MESSAGES = 20
DETAIL_TICKETS = 12
WORDS_PER_KIND = 5
SEARCH_SAMPLE = 3000
CREATE_SUBJECT = "Benchmark ticket"
CREATE_TAG = "benchmark"
# Function words nobody types into a help desk's search box.
# fmt: off
STOPWORDS = frozenset({
    "about", "above", "after", "again", "against", "also", "been", "before", "being", "below", "between",
    "both", "cannot", "could", "does", "doing", "down", "during", "each", "from", "further", "have", "having",
    "here", "hers", "herself", "himself", "into", "itself", "just", "more", "most", "myself", "once", "only",
    "other", "ours", "ourselves", "over", "same", "should", "some", "such", "than", "that", "their", "theirs",
    "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "under", "until",
    "very", "were", "what", "when", "where", "which", "while", "whom", "with", "would", "your", "yours", "yourself",
    "yourselves", "will", "shall", "thanks", "thank", "hello", "dear", "regards", "best", "please",
})
# fmt: on
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


# --- fixtures ----------------------------------------------------------------------------------


def bench_agent() -> User:
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        user = account_actions.create_user(actor=None, email=BENCH_EMAIL, name="Benchmark Agent", role=Role.AGENT)
    return user


def fresh_token(user: User) -> str:
    """Earlier runs' tokens are revoked first, so they do not pile up."""
    for old in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        account_actions.revoke_token(old)
    _, raw = account_actions.issue_token(user, name="make bench")
    return raw


def _id_range() -> tuple[int, int]:
    bounds = Ticket.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        raise SystemExit("the benchmark database has no tickets")
    return int(bounds["low"]), int(bounds["high"])


def tickets_with_messages(count: int, wanted: int, rng: random.Random) -> list[int]:
    """Up to ``wanted`` tickets with exactly ``count`` messages. Windows of the id range at
    random points first, so old and new tickets both appear; then a scan of all tickets for the
    rest (which also finds the tickets an earlier run topped up)."""
    low, high = _id_range()
    found: list[int] = []

    def with_count(qs: QuerySet[Message], n: int) -> list[int]:
        grouped = qs.values("ticket_id").annotate(n=Count("id")).filter(n=count).order_by("ticket_id")
        return list(grouped.values_list("ticket_id", flat=True)[:n])

    for _ in range(wanted * 2):
        if len(found) >= wanted:
            break
        start = rng.randint(low, high)
        window = Message.objects.filter(ticket_id__gte=start, ticket_id__lt=start + 20_000)
        found.extend(t for t in with_count(window, 2) if t not in found)
    if len(found) < wanted:
        found.extend(with_count(Message.objects.exclude(ticket_id__in=found), wanted - len(found)))
    return found[:wanted]


def top_up_detail_tickets(agent: User, have: list[int], rng: random.Random) -> list[int]:
    """When the data has too few tickets with exactly 20 messages, give some more through
    tickets.actions.add_message (internal notes, bodies copied from other messages, so the
    search index sees ordinary text). They stay, so the next run finds them."""
    low, high = _id_range()
    made = list(have)
    attempts = 0
    while len(made) < DETAIL_TICKETS and attempts < 200:
        attempts += 1
        ticket = (
            Ticket.objects.filter(pk__gte=rng.randint(low, high))
            .exclude(status=Status.CLOSED)
            .exclude(pk__in=made)
            .order_by("pk")
            .first()
        )
        if ticket is None:
            continue
        existing = Message.objects.filter(ticket=ticket).count()
        if existing >= DETAIL_MESSAGES:
            continue
        bodies = list(
            Message.objects.filter(ticket_id__gte=rng.randint(low, high)).values_list("body_text", flat=True)[
                : DETAIL_MESSAGES - existing
            ]
        )
        while len(bodies) < DETAIL_MESSAGES - existing:
            bodies.append("Following up on this request.")
        for body in bodies:
            ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text=body, public=False)
        made.append(ticket.pk)
    return made


def random_customers(rng: random.Random, wanted: int) -> list[int]:
    bounds = Customer.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        raise SystemExit("the benchmark database has no customers")
    candidates = {rng.randint(bounds["low"], bounds["high"]) for _ in range(wanted * 2)}
    found = list(Customer.objects.filter(pk__in=candidates).values_list("pk", flat=True)[:wanted])
    return found or [int(bounds["low"])]


def _sample_documents(rng: random.Random) -> dict[int, list[str]]:
    """Subjects and message bodies of about SEARCH_SAMPLE tickets picked at random."""
    low, high = _id_range()
    ids = sorted({rng.randint(low, high) for _ in range(SEARCH_SAMPLE)})
    docs: dict[int, list[str]] = collections.defaultdict(list)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for pk, subject in Ticket.objects.filter(pk__in=chunk).values_list("pk", "subject"):
            docs[pk].append(subject)
        for pk, body in Message.objects.filter(ticket_id__in=chunk).values_list("ticket_id", "body_text"):
            docs[pk].append(body)
    return docs


def _words(text: str) -> list[str]:
    return [w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOPWORDS]


def matches(query: str) -> int:
    expression = search.matching_ids(query, include_internal=True)
    return 0 if expression is None else Ticket.objects.filter(pk__in=expression).count()


def search_terms(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """Search words as support agents type them, taken from the data itself: the most frequent
    words, words found in a single sampled ticket, and word pairs that stand next to each other
    in subjects."""
    docs = _sample_documents(rng)
    doc_freq: collections.Counter[str] = collections.Counter()
    pair_freq: collections.Counter[str] = collections.Counter()
    for texts in docs.values():
        doc_freq.update({w for text in texts for w in _words(text)})
        subject_words = _words(texts[0]) if texts else []
        pair_freq.update({f"{a} {b}" for a, b in itertools.pairwise(subject_words) if a != b})
    total = Ticket.objects.count()
    common = [w for w, _ in doc_freq.most_common(WORDS_PER_KIND)]
    singles = [w for w, n in doc_freq.items() if n == 1]
    rng.shuffle(singles)
    rare: list[tuple[int, str]] = []
    rare_ceiling = max(50, total // 10_000)  # at most 0.01 % of the tickets
    for word in singles[:60]:
        hits = matches(word)
        if hits > 0:
            rare.append((hits, word))
        if sum(1 for h, _ in rare if h <= rare_ceiling) >= WORDS_PER_KIND:
            break
    rare_words = [w for _, w in sorted(rare)[:WORDS_PER_KIND]]
    pairs = [p for p, _ in pair_freq.most_common(WORDS_PER_KIND)]
    return {
        "search_common": [{"q": w, "matches": matches(w)} for w in common],
        "search_rare": [{"q": w, "matches": matches(w)} for w in rare_words],
        "search_two_words": [{"q": p, "matches": matches(p)} for p in pairs],
    }


# --- measuring ---------------------------------------------------------------------------------


class QueryCounter:
    """Counts queries and adds up the time spent in ``cursor.execute``: on PostgreSQL the whole
    query, on SQLite the query up to its first row (later rows are computed as they are read)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


Request = tuple[str, str, str | None]  # method, path, JSON body


def _cycle(items: list[Any], rng: random.Random) -> Iterator[Any]:
    """Every item in turn, reshuffled each round, so parameters vary without repeating a pattern."""
    pool = list(items)
    if not pool:
        raise ValueError("nothing to cycle through")
    while True:
        rng.shuffle(pool)
        yield from pool


def scenario_requests(name: str, fixtures: dict[str, Any], rng: random.Random) -> Iterator[Request]:
    api = "/api/v1/tickets"
    if name == "list":
        combos = [(s, t) for s in fixtures["statuses"] for t in fixtures["team_ids"]]
        for status, team in _cycle(combos, rng):
            yield "GET", f"{api}?{urlencode({'status': status, 'team': team})}", None
    elif name == "list_unsolved":
        for team in _cycle(fixtures["team_ids"], rng):
            yield "GET", f"{api}?{urlencode({'status': 'open,pending', 'team': team})}", None
    elif name == "detail":
        for pk in _cycle(fixtures["detail_ids"], rng):
            yield "GET", f"{api}/{pk}", None
    elif name == "create":
        n = 0
        while True:
            n += 1
            body = {
                "subject": f"{CREATE_SUBJECT} {n}: cannot sign in after the update",
                "body": "Since this morning the sign-in page says my password is wrong, but the reset link works.",
                "requester_id": rng.choice(fixtures["customer_ids"]),
                "team_id": rng.choice(fixtures["team_ids"]),
                "priority": rng.choice(["low", "normal", "high"]),
                "tags": [CREATE_TAG],
            }
            yield "POST", api, json.dumps(body)
    elif name.startswith("search_"):
        for term in _cycle(fixtures["search"][name], rng):
            yield "GET", f"{api}?{urlencode({'q': term['q']})}", None
    elif name == "page_inbox":
        # The built-in views and filtered views of a demo agent with assigned tickets and teams.
        views = [f"/inbox/{slug}" for slug in PAGE_VIEWS] + ["/inbox"]
        filtered = [
            "/inbox/all-open?" + urlencode({"status": status, "team": team})
            for status in ("new", "open", "pending", "on_hold")
            for team in fixtures["team_ids"]
        ]
        for path in _cycle(views * 4 + filtered, rng):
            yield "GET", path, None
    elif name == "page_ticket":
        for pk in _cycle(fixtures["detail_ids"], rng):
            yield "GET", f"/tickets/{pk}", None
    elif name == "page_search":
        terms = [
            t["q"]
            for kind in ("search_common", "search_rare", "search_two_words")
            for t in fixtures["search"].get(kind, [])
        ]
        for term in _cycle(terms, rng):
            yield "GET", f"/search?{urlencode({'q': term})}", None
    else:
        raise ValueError(name)


def measure(
    client: Client, token: str | None, name: str, fixtures: dict[str, Any], *, warmup: int, count: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(f"{seed}-{name}")
    requests = scenario_requests(name, fixtures, rng)
    counter = QueryCounter()
    times_ms: list[float] = []
    cpu_ms: list[float] = []
    db_ms: list[float] = []
    queries: list[int] = []
    created: list[int] = []
    statuses: collections.Counter[int] = collections.Counter()
    # Pages use the signed-in session of their client; the API a bearer token.
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    gc.collect()
    with connection.execute_wrapper(counter), Progress(transient=True) as progress:
        task = progress.add_task(f"  {name}", total=warmup + count)
        for i in range(warmup + count):
            method, path, body = next(requests)
            before, db_before = counter.count, counter.seconds
            cpu_started = time.thread_time()
            started = time.perf_counter()
            if body is None:
                response = client.generic(method, path, **headers)  # type: ignore[arg-type]
            else:
                response = client.generic(method, path, body, content_type="application/json", **headers)  # type: ignore[arg-type]
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.thread_time() - cpu_started) * 1000
            statuses[response.status_code] += 1
            if response.status_code >= 300:
                raise SystemExit(f"{name}: {method} {path} answered {response.status_code}: {response.content[:500]!r}")
            if method == "POST":
                created.append(int(response.json()["id"]))
            if i >= warmup:
                times_ms.append(elapsed)
                cpu_ms.append(cpu)
                db_ms.append((counter.seconds - db_before) * 1000)
                queries.append(counter.count - before)
            progress.advance(task)
    return {
        "requests": count,
        "warmup": warmup,
        "ms": summarize_ms(times_ms),
        # CPU time of this thread: Python, Django and (for SQLite) the database engine, but not
        # PostgreSQL's server process. Less sensitive than wall time to other load on the machine.
        "cpu_ms": summarize_ms(cpu_ms),
        "db_execute_ms": summarize_ms(db_ms),
        "queries": {"min": min(queries), "max": max(queries), "mean": sum(queries) / len(queries)},
        "statuses": dict(statuses),
        "samples_ms": [round(t, 3) for t in times_ms],
        "_created": created,
    }


def delete_created(ids: list[int]) -> None:
    if not ids:
        return
    for start in range(0, len(ids), 500):
        _delete(ids[start : start + 500])


def delete_leftovers() -> None:
    """Tickets an interrupted earlier run created and could not delete."""
    ids = list(
        Ticket.objects.filter(tags__name=CREATE_TAG, subject__startswith=CREATE_SUBJECT).values_list("pk", flat=True)
    )
    if ids:
        print(f"  deleting {len(ids)} tickets left by an interrupted run", flush=True)
        delete_created(ids)


def _delete(ids: list[int]) -> None:
    with transaction.atomic():
        search.backend().delete(ids)
        Ticket.objects.filter(pk__in=ids).delete()


SCENARIOS = [
    "list",
    "list_unsolved",
    "detail",
    "create",
    "search_common",
    "search_rare",
    "search_two_words",
    "page_inbox",
    "page_ticket",
    "page_search",
]
# The agent workspace's built-in views (tickets/saved_views.py QUEUES), measured as pages.
PAGE_VIEWS = ["my-open", "unassigned", "my-teams", "all-open", "pending", "recently-solved"]
# Pages are measured as a demo agent (assigned tickets, team memberships) signed in with a session.
PAGE_USER = "agent1@demo.deskpilot.test"


def collect_fixtures(seed: int) -> tuple[dict[str, Any], str]:
    rng = random.Random(seed)
    delete_leftovers()
    agent = bench_agent()
    token = fresh_token(agent)
    team_ids = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    if not team_ids:
        raise SystemExit("the benchmark database has no teams")
    print("  finding tickets with exactly 20 messages", flush=True)
    detail_ids = tickets_with_messages(DETAIL_MESSAGES, DETAIL_TICKETS, rng)
    found = len(detail_ids)
    if found < DETAIL_TICKETS:
        print(f"  only {found} found; adding messages to {DETAIL_TICKETS - found} more", flush=True)
        detail_ids = top_up_detail_tickets(agent, detail_ids, rng)
    topped_up = (
        Message.objects.filter(ticket_id__in=detail_ids, author_user=agent).values("ticket_id").distinct().count()
    )
    low, high = _id_range()
    customer_ids = random_customers(rng, 200)
    print("  choosing search words from the data", flush=True)
    terms = search_terms(rng)
    page_user = User.objects.filter(email=PAGE_USER, is_active=True).first()
    fixtures = {
        "page_user": page_user.email if page_user else None,
        "page_password": demo_staff.PASSWORD if page_user else None,
        "team_ids": team_ids,
        "statuses": [s.value for s in Status],
        "detail_ids": detail_ids,
        # How many of them the benchmark brought to 20 messages (now or in an earlier run).
        "detail_ids_topped_up": topped_up,
        "customer_ids": customer_ids,
        "search": terms,
        "ticket_count": Ticket.objects.count(),
        "message_count": Message.objects.count(),
        "ticket_id_range": [low, high],
        "vendor": connection.vendor,
    }
    return fixtures, token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where to write the results (JSON)")
    parser.add_argument("--fixtures-out", type=Path, required=True, help="token and ids for the throughput run")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    args = parser.parse_args(argv)

    fixtures, token = collect_fixtures(args.seed)
    client = Client()
    page_client = Client()
    page_user = User.objects.filter(email=fixtures["page_user"]).first() if fixtures["page_user"] else None
    if page_user is not None:
        page_client.force_login(page_user)
    results: dict[str, Any] = {}
    created: list[int] = []
    try:
        for name in args.scenarios.split(","):
            if name.startswith("search_") and not fixtures["search"].get(name):
                print(f"  {name:<17} skipped: no such words found in the data", flush=True)
                continue
            if name.startswith("page_") and page_user is None:
                print(f"  {name:<17} skipped: the demo agent {PAGE_USER} is missing", flush=True)
                continue
            if name.startswith("page_"):
                result = measure(
                    page_client, None, name, fixtures, warmup=args.warmup, count=args.requests, seed=args.seed
                )
            else:
                result = measure(client, token, name, fixtures, warmup=args.warmup, count=args.requests, seed=args.seed)
            created.extend(result.pop("_created"))
            results[name] = result
            ms = result["ms"]
            print(
                f"  {name:<17} p50 {ms['p50']:7.2f}  p95 {ms['p95']:7.2f}  p99 {ms['p99']:7.2f}"
                f"  max {ms['max']:7.2f} ms  cpu p50 {result['cpu_ms']['p50']:6.2f} ms"
                f"  db p50 {result['db_execute_ms']['p50']:6.2f} ms"
                f"  queries {result['queries']['max']}",
                flush=True,
            )
    finally:
        delete_created(created)
    args.out.write_text(json.dumps({"fixtures": fixtures, "scenarios": results}, indent=1))
    private = {"token": token, **fixtures}
    fd = os.open(args.fixtures_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(private, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
