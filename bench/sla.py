"""SLA clocks at scale: ``.venv/bin/python -m bench.sla [--db sqlite|postgres] [--tickets N]``.

On the benchmark database of ``make bench`` (1,000,000 demo tickets by default; prepare it first
with ``make bench -- --prepare-only``), in a child process whose environment selects it:

1. SLA configuration as a manager would set it up, created if missing: a Europe/Berlin office
   calendar (Mon-Fri 08:00-18:00, German public holidays) as the default, a "Bench urgent" policy
   for urgent and high tickets and a "Bench standard" policy for the rest, each with targets for the
   seven metrics (business hours, warnings at 75 %).
2. ``recompute``: ``policies.sla_rebuild.recompute_all`` over every ticket (what
   ``deskpilot sla-recompute`` runs): the clocks of all tickets from their events, the SLA fields
   written, the warnings and breaches recorded. The issue's target: 1,000,000 tickets in at most
   2 minutes. Run with the policies' ``updated_at`` set to before the data began, so the first run
   records the demo history's breaches at their moments; a second run (``--runs 2``) measures the
   steady state, with nothing left to record.
3. ``sweep``: what the breach sweep costs each minute on the same database: the index range scan
   for due tickets (p50 / p95 over repeated runs), and a sweep run a minute ahead of now, which
   recomputes the tickets that come due in that minute. The issue's target: at most 100 ms per run
   on 1,000,000 open tickets; ``--open-scale`` times the same with every ticket given a running
   clock (a wake-up within the next week), in a transaction rolled back afterwards.

Prints the figures (and writes them as JSON with ``--out``). Changes the benchmark database: the
configuration and the SLA state stay (the other benchmarks do not read them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_TICKETS, BenchDatabase

RECOMPUTE_TARGET_S = 120.0
SWEEP_TARGET_MS = 100.0


def _configure() -> None:
    import datetime

    from deskpilot.policies import sla
    from deskpilot.policies.models import BusinessCalendar, BusinessInterval, DefaultCalendar, SlaPolicy, SlaTarget

    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Bench office", defaults={"time_zone": "Europe/Berlin", "holiday_country": "DE"}
    )
    if created:
        for day in range(5):
            BusinessInterval.objects.create(
                calendar=calendar, weekday=day, start=datetime.time(8), end=datetime.time(18)
            )
    DefaultCalendar.objects.all().delete()
    DefaultCalendar.objects.create(calendar=calendar)
    minutes = {
        "Bench urgent": {"first_reply": 60, "next_reply": 120, "periodic_update": 240, "pausable_update": 240,
                         "requester_wait": 480, "agent_work": 480, "total_resolution": 960},
        "Bench standard": {"first_reply": 240, "next_reply": 480, "periodic_update": 960, "pausable_update": 960,
                           "requester_wait": 1440, "agent_work": 1440, "total_resolution": 2880},
    }  # fmt: skip
    priorities = {"Bench urgent": ["urgent", "high"], "Bench standard": ["normal", "low"]}
    for position, (name, targets) in enumerate(minutes.items()):
        policy, created = SlaPolicy.objects.get_or_create(
            name=name, defaults={"position": position, "priorities": priorities[name], "warning_percent": 75}
        )
        if created:
            for priority in priorities[name]:
                for metric, value in targets.items():
                    SlaTarget.objects.create(policy=policy, metric=metric, priority=priority, minutes=value)
    # The benchmark's policies alone decide (a database generated with the demo's own policies
    # keeps them, switched off).
    SlaPolicy.objects.exclude(name__startswith="Bench ").update(active=False)
    # From before the demo data began: its history's breaches are recorded at their moments.
    SlaPolicy.objects.filter(name__startswith="Bench ").update(
        updated_at=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    )
    sla.clear_cache()


def _inner(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    import datetime

    from django.db import connection
    from django.utils import timezone

    from deskpilot.policies import sla
    from deskpilot.policies.sla_rebuild import recompute_all
    from deskpilot.tickets.models import UNSOLVED, Ticket

    _configure()
    result: dict[str, Any] = {"engine": connection.vendor, "tickets": Ticket.objects.count()}
    result["unsolved"] = Ticket.objects.filter(status__in=UNSOLVED).count()
    runs = []
    for run in range(args.runs):
        began = time.perf_counter()
        totals = recompute_all(progress=None, workers=args.workers)
        seconds = time.perf_counter() - began
        runs.append(
            {"seconds": seconds, "tickets": totals.tickets, "with_policy": totals.with_policy,
             "findings": totals.findings, "per_second": totals.tickets / seconds}
        )  # fmt: skip
        print(f"recompute run {run + 1}: {totals.tickets:,} tickets in {seconds:.1f} s "
              f"({totals.tickets / seconds:,.0f}/s), {totals.findings:,} findings recorded", flush=True)  # fmt: skip
    result["recompute"] = runs
    result["running_clocks"] = Ticket.objects.filter(sla_wake_at__isnull=False).count()

    now = timezone.now()
    scans = []
    for _ in range(args.scans):
        began = time.perf_counter()
        sla.due_ticket_ids(now + datetime.timedelta(minutes=1), 500)
        scans.append((time.perf_counter() - began) * 1000)
    scans.sort()
    result["due_scan_ms"] = {"p50": scans[len(scans) // 2], "p95": scans[int(len(scans) * 0.95) - 1]}
    sweeps = []
    for minute in range(1, args.sweeps + 1):
        at = now + datetime.timedelta(minutes=minute)
        due = len(sla.due_ticket_ids(at, 10_000))
        began = time.perf_counter()
        done = sla.sweep(now=at)
        sweeps.append({"minute": minute, "due": due, "recomputed": done, "ms": (time.perf_counter() - began) * 1000})
    result["sweeps"] = sweeps
    if args.open_scale:
        result["open_scale"] = _open_scale(args, now)
    return result


def _open_scale(args: argparse.Namespace, now: Any) -> dict[str, Any]:
    """The sweep as if every ticket were open with a running clock: each ticket gets a wake-up
    spread evenly over the next week (ids scattered, so index order is not id order), then the
    due scan and sweep runs are timed as above. In one transaction that is rolled back: the
    database is left as it was."""
    import datetime

    from django.db import connection, transaction

    from deskpilot.policies import sla
    from deskpilot.tickets.models import Ticket

    week = 7 * 86400
    table = Ticket._meta.db_table
    out: dict[str, Any] = {}
    with transaction.atomic():
        total = Ticket.objects.count()
        began = time.perf_counter()
        with connection.cursor() as cursor:
            # Only the table name (from the model) is formatted in.
            if connection.vendor == "sqlite":
                cursor.execute(
                    f"UPDATE {table} SET sla_wake_at = "
                    "datetime(%s, '+' || (((id * 7919) %% %s) * %s / %s) || ' seconds')",
                    [now.strftime("%Y-%m-%d %H:%M:%S"), total, week, total],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET sla_wake_at = "
                    "%s::timestamptz + ((id * 7919) %% %s) * %s / %s * interval '1 second'",
                    [now, total, week, total],
                )
        out["wake_ups"] = Ticket.objects.filter(sla_wake_at__isnull=False).count()
        out["setup_s"] = time.perf_counter() - began
        scans = []
        for _ in range(args.scans):
            began = time.perf_counter()
            sla.due_ticket_ids(now + datetime.timedelta(minutes=1), 500)
            scans.append((time.perf_counter() - began) * 1000)
        scans.sort()
        out["due_scan_ms"] = {"p50": scans[len(scans) // 2], "p95": scans[int(len(scans) * 0.95) - 1]}
        sweeps = []
        for minute in range(1, args.sweeps + 1):
            at = now + datetime.timedelta(minutes=minute)
            due = len(sla.due_ticket_ids(at, 10_000))
            began = time.perf_counter()
            done = sla.sweep(now=at)
            ms = (time.perf_counter() - began) * 1000
            sweeps.append({"minute": minute, "due": due, "recomputed": done, "ms": ms})
        out["sweeps"] = sweeps
        print(
            f"open scale: {out['wake_ups']:,} wake-ups, due scan p50 {out['due_scan_ms']['p50']:.2f} ms "
            f"p95 {out['due_scan_ms']['p95']:.2f} ms; sweep runs "
            + ", ".join(f"{s['recomputed']} in {s['ms']:.0f} ms" for s in sweeps),
            flush=True,
        )
        transaction.set_rollback(True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument("--runs", type=int, default=2, help="recompute runs (the first records the history)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="recompute processes")
    parser.add_argument("--scans", type=int, default=200, help="timed scans for due tickets")
    parser.add_argument("--sweeps", type=int, default=10, help="sweep runs, one simulated minute apart")
    parser.add_argument(
        "--open-scale", action="store_true", help="also time the sweep as if every ticket were open (rolled back)"
    )
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:
        result = _inner(args)
        if args.out:
            args.out.write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps(result, indent=2, default=str))
        return 0
    db = BenchDatabase(args.db, args.tickets)
    if not db.marker.exists():
        print(f"{db.label}: no benchmark database of {args.tickets:,} tickets; run make bench -- --prepare-only")
        return 2
    print(f"{db.label}, {args.tickets:,} tickets, load average {os.getloadavg()[0]:.2f}", flush=True)
    command = [sys.executable, "-m", "bench.sla", "--inner", *(argv if argv is not None else sys.argv[1:])]
    return subprocess.run(command, env=db.env(), check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
