"""Analytics at scale (issue 6): ``python -m bench.analytics --out results.json [--rebuild]``.

Run by bench.run as a child process whose environment selects the benchmark database (like
bench.latency); by hand, give it that environment (``BenchDatabase.env()``). Measures, on the
demo data of the benchmark database:

- the manager pages' server time in-process with ``django.test.Client``, signed in as the demo
  manager (force_login): the wall time of the whole Django request (middleware, the view, every
  query, the template), without network or WSGI server. Each scenario is warmed up, then
  measured with parameters varied from the data: 90-day windows ending on different days of the
  data's last 30, each team in turn, and so on;
- the operations page cold: the first request of a fresh process (a child process per run,
  signed in before the clock starts), apart from the warm figure;
- ``incremental``: what the metrics receiver (``analytics.ticket_metrics.on_events_recorded``,
  with the rollups' update it makes) adds to a ticket change. Real changes (priority, status,
  assignee through ``tickets.actions.update_ticket``, replies through ``add_message``) run on
  sampled tickets, each in a transaction rolled back afterwards, so the database is unchanged
  (on PostgreSQL below psycopg, which would drop the connection's prepared statements, as a
  commit does not; ``--psycopg-rollback`` measures with psycopg's rollback); only the receiver
  is timed, through a timing wrapper connected in its place (same
  ``dispatch_uid``, same place in the dispatch order) and the original connected again at the end;
- ``rebuild`` (only with ``--rebuild``: it rewrites every record and rollup, with the same
  values): ``deskpilot metrics-rebuild`` as a child process with its default workers, wall time.

The issue's targets (``TARGETS_MS``, ``REBUILD_TARGET_S``) are judged on p95 server time; the
drill-down on the worse of its two scenarios. Prints a line per scenario and writes JSON.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import gc
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from bench.common import PYTHON, REPO, summarize_ms

if TYPE_CHECKING:
    from django.test import Client

    from bench.latency import QueryCounter
    from deskpilot.accounts.models import User

# The product issue's targets, p95 server time in milliseconds (the receiver's own time for
# ``incremental``), and the rebuild's wall time in seconds. Importable without Django (bench.report).
TARGETS_MS = {
    "page_performance_90d": 300.0,
    "page_operations": 150.0,
    "page_drilldown": 100.0,
    "incremental": 3.0,
    # Issue 7's Insights page (it needs analysed texts and a clustering: `deskpilot insights
    # analyze` and `recluster` on the benchmark database).
    "page_insights": 300.0,
}
REBUILD_TARGET_S = 600.0
# The drill-down target is judged on the worse of these.
DRILLDOWN_SCENARIOS = ("page_drilldown_day", "page_drilldown_90d")

# The demo desk's first manager (deskpilot.demo.staff); any active manager when it is missing.
MANAGER = "manager@demo.deskpilot.test"
TOKEN_NAME = "make bench analytics"
WINDOW_DAYS = 90
SCORECARD_DAYS = 30
# The windows end on one of the data's last this many days.
END_DAYS = 30
METRICS_UID = "deskpilot.analytics.ticket_metrics"
CHANGE_KINDS = ("priority", "status", "assignee", "message")
REPLY = "Thanks for the details. We are looking into it and will get back to you shortly."

SCENARIOS = [
    "page_performance_90d",
    "page_performance_team",
    "page_performance_combined",
    "page_operations",
    "page_operations_cold",
    "page_drilldown_day",
    "page_drilldown_90d",
    "page_scorecards",
    "api_performance",
    "page_insights",
    "incremental",
]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskpilot.settings")
    import django

    django.setup()


# --- fixtures ----------------------------------------------------------------------------------


def manager() -> User:
    from deskpilot.accounts.models import Role, User

    user = User.objects.filter(email=MANAGER, is_active=True).first()
    user = user or User.objects.filter(role=Role.MANAGER, is_active=True).order_by("pk").first()
    if user is None:
        raise SystemExit("the benchmark database has no active manager")
    return user


def fresh_token(user: User) -> str:
    """A bearer token for the API scenario; this benchmark's earlier tokens are revoked first."""
    from deskpilot.accounts import actions as account_actions
    from deskpilot.accounts.models import ApiToken

    for old in ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
        account_actions.revoke_token(old)
    _, raw = account_actions.issue_token(user, name=TOKEN_NAME)
    return raw


def collect_fixtures() -> dict[str, Any]:
    """What the parameters vary over, taken from the data: its last day (UTC, as the reports
    count days), the teams, the priorities."""
    from django.db import connection
    from django.db.models import Max

    from deskpilot.accounts.models import Team
    from deskpilot.analytics.models import TicketMetrics
    from deskpilot.tickets.models import Priority, Ticket

    last = TicketMetrics.objects.aggregate(last=Max("created_at"))["last"]
    if last is None:
        raise SystemExit("the benchmark database has no metrics records (run deskpilot metrics-rebuild)")
    last_day = last.astimezone(datetime.UTC).date()
    team_ids = list(Team.objects.order_by("pk").values_list("pk", flat=True))
    if not team_ids:
        raise SystemExit("the benchmark database has no teams")
    return {
        "last_day": last_day.isoformat(),
        "end_days": [(last_day - datetime.timedelta(days=n)).isoformat() for n in range(END_DAYS)],
        "team_ids": team_ids,
        "priorities": [p.value for p in Priority],
        "ticket_count": Ticket.objects.count(),
        "metrics_count": TicketMetrics.objects.count(),
        "vendor": connection.vendor,
    }


# --- requests ----------------------------------------------------------------------------------


def _cycle(items: list[Any], rng: random.Random) -> Iterator[Any]:
    """Every item in turn, reshuffled each round."""
    pool = list(items)
    while True:
        rng.shuffle(pool)
        yield from pool


def _window(rng: random.Random, fixtures: dict[str, Any], days: int) -> tuple[datetime.date, datetime.date]:
    end = datetime.date.fromisoformat(rng.choice(fixtures["end_days"]))
    return end - datetime.timedelta(days=days - 1), end


def _range(start: datetime.date, end: datetime.date) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def scenario_paths(name: str, fixtures: dict[str, Any], rng: random.Random) -> Iterator[str]:
    teams = _cycle(fixtures["team_ids"], rng)
    if name == "page_performance_90d":
        while True:
            yield "/analytics/performance?" + urlencode(_range(*_window(rng, fixtures, WINDOW_DAYS)))
    elif name == "page_performance_team":
        while True:
            params = {**_range(*_window(rng, fixtures, WINDOW_DAYS)), "team": next(teams)}
            yield "/analytics/performance?" + urlencode(params)
    elif name == "page_performance_combined":
        combos = _cycle([(t, p) for t in fixtures["team_ids"] for p in fixtures["priorities"]], rng)
        while True:
            team, priority = next(combos)
            params = {**_range(*_window(rng, fixtures, WINDOW_DAYS)), "team": team, "priority": priority}
            yield "/analytics/performance?" + urlencode(params)
    elif name == "page_operations":
        while True:
            yield "/analytics/operations"
    elif name == "page_drilldown_day":
        # A point of the performance chart: one day of a 90-day report.
        while True:
            start, end = _window(rng, fixtures, WINDOW_DAYS)
            day = start + datetime.timedelta(days=rng.randrange(WINDOW_DAYS))
            params = {"measure": "created", **_range(start, end), "day": day.isoformat()}
            yield "/analytics/tickets?" + urlencode(params)
    elif name == "page_drilldown_90d":
        while True:
            params = {"measure": "solved", **_range(*_window(rng, fixtures, WINDOW_DAYS)), "team": next(teams)}
            yield "/analytics/tickets?" + urlencode(params)
    elif name == "page_scorecards":
        while True:
            params = {"view": "agents", **_range(*_window(rng, fixtures, SCORECARD_DAYS)), "team": next(teams)}
            yield "/analytics/scorecards?" + urlencode(params)
    elif name == "page_insights":
        while True:
            yield "/analytics/insights/"
    elif name == "api_performance":
        while True:
            yield "/api/v1/metrics/performance?" + urlencode(_range(*_window(rng, fixtures, WINDOW_DAYS)))
    else:
        raise ValueError(name)


def _query_counter() -> QueryCounter:
    from bench.latency import QueryCounter

    return QueryCounter()


def _timed_get(client: Client, path: str, headers: dict[str, str], counter: QueryCounter) -> dict[str, float]:
    """One GET; fails loudly unless it answers 200."""
    before, db_before = counter.count, counter.seconds
    cpu_started = time.thread_time()
    started = time.perf_counter()
    response = client.get(path, **headers)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - started) * 1000
    cpu = (time.thread_time() - cpu_started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.content[:500]!r}")
    return {
        "ms": elapsed,
        "cpu_ms": cpu,
        "db_ms": (counter.seconds - db_before) * 1000,
        "queries": counter.count - before,
    }


def _figures(samples: list[dict[str, float]], warmup: int) -> dict[str, Any]:
    queries = [int(s["queries"]) for s in samples]
    return {
        "requests": len(samples),
        "warmup": warmup,
        "ms": summarize_ms([s["ms"] for s in samples]),
        # CPU time of this thread: Python, Django and (for SQLite) the database engine, not
        # PostgreSQL's server process.
        "cpu_ms": summarize_ms([s["cpu_ms"] for s in samples]),
        "db_execute_ms": summarize_ms([s["db_ms"] for s in samples]),
        "queries": {"min": min(queries), "max": max(queries), "mean": sum(queries) / len(queries)},
        "samples_ms": [round(s["ms"], 3) for s in samples],
    }


def measure_pages(
    client: Client, name: str, fixtures: dict[str, Any], *, headers: dict[str, str], warmup: int, count: int, seed: int
) -> dict[str, Any]:
    from django.db import connection
    from rich.progress import Progress

    paths = scenario_paths(name, fixtures, random.Random(f"{seed}-{name}"))
    counter = _query_counter()
    samples: list[dict[str, float]] = []
    gc.collect()
    with connection.execute_wrapper(counter), Progress(transient=True) as progress:
        task = progress.add_task(f"  {name}", total=warmup + count)
        for i in range(warmup + count):
            sample = _timed_get(client, next(paths), headers, counter)
            if i >= warmup:
                samples.append(sample)
            progress.advance(task)
    return _figures(samples, warmup)


# --- the operations page, cold -----------------------------------------------------------------


def cold_probe() -> dict[str, float]:
    """In a fresh process: sign in (not timed), then the process's first request, timed."""
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(manager())
    counter = _query_counter()
    with connection.execute_wrapper(counter):
        return _timed_get(client, "/analytics/operations", {}, counter)


def measure_cold(runs: int) -> dict[str, Any]:
    """``runs`` child processes, each timing its first request of the operations page."""
    from rich.progress import Progress

    samples: list[dict[str, float]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("  page_operations_cold", total=runs)
        for _ in range(runs):
            done = subprocess.run(
                [PYTHON, "-m", "bench.analytics", "--cold-probe"],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"the cold operations probe failed: {done.stderr[-2000:]}")
            samples.append(json.loads(done.stdout.strip().splitlines()[-1]))
            progress.advance(task)
    return _figures(samples, 0)


# --- incremental -------------------------------------------------------------------------------


class ReceiverTimer:
    """Stands in for the metrics receiver: calls it and adds up its wall time, CPU time and
    queries for the current change. The receiver runs more than once in some changes (for the
    SLA clock's or the automation's own events inside the change, then for the change: the
    second run finds nothing new); a change's cost is the sum."""

    def __init__(self, receiver: Callable[..., None], counter: QueryCounter) -> None:
        self.receiver = receiver
        self.counter = counter
        self.depth = 0
        self.reset()

    def reset(self) -> None:
        self.ms = self.cpu_ms = self.db_ms = 0.0
        self.queries = self.calls = 0

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        self.depth += 1
        before, db_before = self.counter.count, self.counter.seconds
        cpu_started = time.thread_time()
        started = time.perf_counter()
        try:
            self.receiver(sender, **kwargs)
        finally:
            self.depth -= 1
            if self.depth == 0:
                self.ms += (time.perf_counter() - started) * 1000
                self.cpu_ms += (time.thread_time() - cpu_started) * 1000
                self.db_ms += (self.counter.seconds - db_before) * 1000
                self.queries += self.counter.count - before
                self.calls += 1


def _sample_tickets(rng: random.Random, wanted: int) -> list[int]:
    """Tickets that can still change (every status but closed), drawn at random from all of them
    (the ids alone: a few hundred thousand integers at most, read through the status index)."""
    from deskpilot.tickets.models import Status, Ticket

    open_ids = list(
        Ticket.objects.filter(status__in=[s for s in Status if s != Status.CLOSED]).values_list("pk", flat=True)
    )
    if not open_ids:
        raise SystemExit("the benchmark database has no ticket that can change")
    return rng.sample(open_ids, min(wanted, len(open_ids)))


def _change(
    kind: str, ticket_id: int, actor: User, agents_by_team: dict[int | None, list[User]], rng: random.Random
) -> None:
    """One real change of ``kind`` to the ticket, as an agent makes it through the web."""
    from deskpilot.tickets import actions
    from deskpilot.tickets.models import Priority, Status, Ticket, Via

    ticket = Ticket.objects.select_related("team", "assignee").get(pk=ticket_id)
    if kind == "message":
        actions.add_message(ticket, actor=actor, via=Via.WEB, body_text=REPLY, public=True)
        return
    if kind == "assignee":
        choices = [u for u in agents_by_team.get(ticket.team_id, agents_by_team[None]) if u.pk != ticket.assignee_id]
        if choices:
            actions.update_ticket(ticket, actor=actor, via=Via.WEB, changes={"assignee": rng.choice(choices)})
            return
        kind = "priority"  # a team without another agent: a change the metrics read all the same
    if kind == "priority":
        value = rng.choice([p.value for p in Priority if p != ticket.priority])
    else:
        value = rng.choice([s for s in ("open", "pending", "on_hold", "solved") if s != ticket.status])
        if ticket.status == Status.SOLVED and value != "open":
            value = "open"
    actions.update_ticket(ticket, actor=actor, via=Via.WEB, changes={kind: value})


def _agents_by_team() -> dict[int | None, list[User]]:
    """Active agents per team (None: all of them, for tickets without a team)."""
    from deskpilot.accounts.models import AGENT_ROLES, Team, User

    agents = list(User.objects.filter(role__in=AGENT_ROLES, is_active=True).order_by("pk"))
    by_team: dict[int | None, list[User]] = {None: agents}
    for team in Team.objects.prefetch_related("members"):
        by_team[team.pk] = [u for u in team.members.all() if u.is_active and u.role in AGENT_ROLES]
    return by_team


def _last_written() -> tuple[Any, ...]:
    """The newest event and message ids: a change that was not rolled back would move them."""
    from django.db.models import Max

    from deskpilot.tickets.models import Message, TicketEvent

    return (TicketEvent.objects.aggregate(m=Max("id"))["m"], Message.objects.aggregate(m=Max("id"))["m"])


def _rollback_keeping_prepared_statements() -> None:
    """End the current transaction with a ROLLBACK sent below psycopg (PostgreSQL). psycopg drops
    every prepared statement of the connection when it rolls back (a precaution for DDL), which a
    ticket change never does in production: its transaction commits, and the statements the live
    path prepares (``core.db``) are kept for the next change. Rolling back this way keeps them,
    as a commit would, and the database unchanged; Django's own rollback then finds the
    connection idle and does nothing."""
    from django.db import connection
    from psycopg import pq

    if connection.vendor != "postgresql":
        return
    result = connection.connection.pgconn.exec_(b"ROLLBACK")
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise SystemExit(f"ROLLBACK failed: {result.error_message!r}")


def measure_incremental(
    actor: User, *, warmup: int, count: int, seed: int, keep_prepared: bool = True
) -> dict[str, Any]:
    """The metrics receiver's own cost per ticket change; every change is rolled back (keeping
    PostgreSQL's prepared statements, as committed changes do, unless ``keep_prepared`` is off:
    ``_rollback_keeping_prepared_statements``)."""
    from django.db import connection, transaction
    from rich.progress import Progress

    from deskpilot.analytics import ticket_metrics
    from deskpilot.tickets.signals import events_recorded

    rng = random.Random(f"{seed}-incremental")
    tickets = _sample_tickets(rng, warmup + count)
    written_before = _last_written()
    agents = _agents_by_team()
    counter = _query_counter()
    timer = ReceiverTimer(ticket_metrics.on_events_recorded, counter)
    order = [key for key, *_ in events_recorded.receivers]
    samples: list[dict[str, float]] = []
    change_ms: list[float] = []
    by_kind: dict[str, list[float]] = collections.defaultdict(list)
    calls: collections.Counter[int] = collections.Counter()
    events_recorded.disconnect(dispatch_uid=METRICS_UID)
    try:
        # The metrics receiver is the last one connected (its app comes last), so the wrapper,
        # connected again, takes its place in the dispatch order; checked, not assumed.
        events_recorded.connect(timer, dispatch_uid=METRICS_UID, weak=False)
        if [key for key, *_ in events_recorded.receivers] != order:
            raise SystemExit("the timing wrapper would change the order of the events_recorded receivers")
        gc.collect()
        with connection.execute_wrapper(counter), Progress(transient=True) as progress:
            task = progress.add_task("  incremental", total=warmup + count)
            for i in range(warmup + count):
                kind = CHANGE_KINDS[i % len(CHANGE_KINDS)]
                timer.reset()
                started = time.perf_counter()
                with transaction.atomic():
                    _change(kind, tickets[i % len(tickets)], actor, agents, rng)
                    if keep_prepared:
                        _rollback_keeping_prepared_statements()
                    transaction.set_rollback(True)
                elapsed = (time.perf_counter() - started) * 1000
                if timer.calls == 0:
                    raise SystemExit(f"a {kind} change did not reach the metrics receiver")
                if i >= warmup:
                    samples.append(
                        {"ms": timer.ms, "cpu_ms": timer.cpu_ms, "db_ms": timer.db_ms, "queries": timer.queries}
                    )
                    change_ms.append(elapsed)
                    by_kind[kind].append(timer.ms)
                    calls[timer.calls] += 1
                progress.advance(task)
    finally:
        events_recorded.disconnect(dispatch_uid=METRICS_UID)
        events_recorded.connect(ticket_metrics.on_events_recorded, dispatch_uid=METRICS_UID)
    if _last_written() != written_before:
        raise SystemExit("the incremental changes were not all rolled back")
    result = _figures(samples, warmup)
    result["tickets"] = len(tickets)
    # The whole change (rolled back), receivers included: what the receiver's time adds to.
    result["change_ms"] = summarize_ms(change_ms)
    result["by_kind_ms"] = {kind: summarize_ms(values) for kind, values in by_kind.items()}
    result["receiver_calls_per_change"] = {str(n): c for n, c in sorted(calls.items())}
    return result


# --- rebuild -----------------------------------------------------------------------------------


def measure_rebuild() -> dict[str, Any]:
    """``deskpilot metrics-rebuild`` with its default workers, in a child process (its progress
    bar shown); this process lets go of the database first."""
    from django.db import connection

    from deskpilot.analytics.models import DailyRollup, TicketMetrics
    from deskpilot.tickets.models import Ticket

    tickets = Ticket.objects.count()
    connection.close()
    cli = Path(PYTHON).parent / "deskpilot"
    command = [str(cli), "metrics-rebuild"] if cli.exists() else [PYTHON, "manage.py", "metrics_rebuild"]
    print(f"  $ {Path(command[0]).name} {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, timeout=3 * 3600, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"metrics-rebuild failed with exit status {done.returncode}")
    if connection.vendor == "postgresql":
        # The rebuild rewrote every record and rollup row: autovacuum would now vacuum both tables
        # (their dead rows are far past its 20 % threshold). Some servers run with autovacuum off,
        # and anything measured after this (a later scenario, another run) would read twice the
        # pages; so it is done here, as autovacuum would, outside the timed part.
        with connection.cursor() as cursor:
            for model in (TicketMetrics, DailyRollup):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    return {
        "tickets": tickets,
        "workers": os.cpu_count() or 1,
        "seconds": round(seconds, 1),
        "tickets_per_second": round(tickets / seconds) if seconds else None,
        "rollup_rows": DailyRollup.objects.count(),
        "target_seconds": REBUILD_TARGET_S,
    }


# --- main --------------------------------------------------------------------------------------


def _line(name: str, result: dict[str, Any]) -> str:
    ms = result["ms"]
    return (
        f"  {name:<26} p50 {ms['p50']:7.2f}  p95 {ms['p95']:7.2f}  p99 {ms['p99']:7.2f}"
        f"  max {ms['max']:7.2f} ms  cpu p50 {result['cpu_ms']['p50']:6.2f} ms"
        f"  db p50 {result['db_execute_ms']['p50']:6.2f} ms  queries {result['queries']['max']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where to write the results (JSON)")
    parser.add_argument("--requests", type=int, default=200, help="measured requests (changes) per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per scenario first")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the cold operations page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, of: " + ", ".join(SCENARIOS))
    parser.add_argument(
        "--rebuild", action="store_true", help="also time deskpilot metrics-rebuild (rewrites every metrics record)"
    )
    parser.add_argument(
        "--psycopg-rollback",
        action="store_true",
        help="incremental: roll each change back through psycopg, which drops the prepared statements",
    )
    parser.add_argument("--cold-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _setup()
    if args.cold_probe:
        print(json.dumps(cold_probe()))
        return 0
    if args.out is None:
        parser.error("--out is required")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"--scenarios: unknown {', '.join(unknown)}")
    if args.requests < 1 or args.warmup < 0 or args.cold_runs < 1:
        parser.error("--requests and --cold-runs must be at least 1, --warmup at least 0")

    from django.test import Client

    from deskpilot.accounts import actions as account_actions
    from deskpilot.accounts.models import ApiToken

    fixtures = collect_fixtures()
    user = manager()
    client = Client()
    client.force_login(user)
    token = fresh_token(user)
    results: dict[str, Any] = {}
    try:
        for name in names:
            if name == "incremental":
                result = measure_incremental(
                    user,
                    warmup=args.warmup,
                    count=args.requests,
                    seed=args.seed,
                    keep_prepared=not args.psycopg_rollback,
                )
            elif name == "page_operations_cold":
                result = measure_cold(args.cold_runs)
            else:
                headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if name.startswith("api_") else {}
                result = measure_pages(
                    client, name, fixtures, headers=headers, warmup=args.warmup, count=args.requests, seed=args.seed
                )
            results[name] = result
            print(_line(name, result), flush=True)
    finally:
        for issued in ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True):
            account_actions.revoke_token(issued)
    rebuild = None
    if args.rebuild:
        rebuild = measure_rebuild()
        print(
            f"  {'rebuild':<26} {rebuild['seconds']:.1f} s for {rebuild['tickets']:,} tickets"
            f" ({rebuild['tickets_per_second']:,} tickets/s, {rebuild['workers']} workers)",
            flush=True,
        )
    args.out.write_text(
        json.dumps(
            {
                "fixtures": fixtures,
                "manager": user.email,
                "targets_ms": TARGETS_MS,
                "scenarios": results,
                "rebuild": rebuild,
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
