"""`make bench`: Deskpilot's performance benchmark on a large demo database.

For each database (SQLite, and PostgreSQL when postgresql://postgres@127.0.0.1:5432 answers):

1. prepare the benchmark database once (1,000,000 demo tickets by default) and reuse it after;
2. measure server time per request in-process (bench.latency) for the targeted scenarios;
   then the analytics pages, the metrics receiver per ticket change and, with
   --analytics-rebuild, metrics-rebuild (bench.analytics);
3. measure sustained throughput through gunicorn with 8 clients next to /healthz (bench.throughput);
4. write the results to bench/results/ and print them as Markdown (--write-docs also updates
   docs/performance.md).

All traffic stays on 127.0.0.1, and every phase is bounded in time.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import dataset, first_paint, machine, report, throughput
from bench.common import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_TICKETS, PYTHON, REPO, RESULTS_DIR, BenchDatabase

LATENCY_TIMEOUT_SECONDS = 3600
# Pages and receiver, plus metrics-rebuild with --analytics-rebuild (its target alone is 10 minutes).
ANALYTICS_TIMEOUT_SECONDS = 3 * 3600


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _positive(value: str) -> int:
    number = int(value.replace("_", ""))
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=_positive, default=DEFAULT_TICKETS, help="size of the demo database")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--skip-throughput", action="store_true", help="no throughput phase (gunicorn + 8 clients)")
    parser.add_argument("--skip-browser", action="store_true", help="no first-paint phase (chromium)")
    parser.add_argument("--skip-analytics", action="store_true", help="no analytics phase (manager pages, metrics)")
    parser.add_argument(
        "--analytics-rebuild",
        action="store_true",
        help="also time deskpilot metrics-rebuild over every ticket (rewrites every metrics record)",
    )
    parser.add_argument(
        "--analytics-requests", type=_positive, default=200, help="measured requests per analytics scenario"
    )
    parser.add_argument("--paint-loads", type=_positive, default=40, help="page loads per page kind in the browser")
    parser.add_argument("--requests", type=_positive, default=300, help="measured requests per scenario (≥ 200)")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests per scenario first")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per throughput endpoint")
    parser.add_argument("--throughput-warmup", type=float, default=3.0, help="seconds of load not counted")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="before each measurement wait up to this long for other work to leave the CPUs (0: do not wait)",
    )
    parser.add_argument("--days", type=_positive, default=DEFAULT_DAYS, help="demo data spread over this many days")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data and parameter choice seed")
    parser.add_argument("--regenerate", action="store_true", help="generate the demo database again")
    parser.add_argument(
        "--settings",
        default="deskpilot.settings",
        help="measure with another Django settings module (a proposed change); results are kept apart",
    )
    parser.add_argument("--prepare-only", action="store_true", help="prepare the databases, measure nothing")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md with the results")
    parser.add_argument(
        "--report-only", action="store_true", help="print (and with --write-docs write) the latest results; no run"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.duration > 300:
        parser.error("--duration must be between 0 and 300 seconds")
    return args


def measure_latency(
    db: BenchDatabase, args: argparse.Namespace, workdir: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    out, fixtures_out = workdir / "latency.json", workdir / "fixtures.json"
    command = [
        PYTHON,
        "-m",
        "bench.latency",
        "--out",
        str(out),
        "--fixtures-out",
        str(fixtures_out),
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
        "--seed",
        str(args.seed),
    ]
    completed = subprocess.run(command, cwd=REPO, env=db.env(), timeout=LATENCY_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the latency run failed with exit status {completed.returncode}")
    return json.loads(out.read_text()), json.loads(fixtures_out.read_text())


def measure_analytics(db: BenchDatabase, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out = workdir / "analytics.json"
    command = [
        PYTHON,
        "-m",
        "bench.analytics",
        "--out",
        str(out),
        "--requests",
        str(args.analytics_requests),
        "--seed",
        str(args.seed),
        *(["--rebuild"] if args.analytics_rebuild else []),
    ]
    completed = subprocess.run(command, cwd=REPO, env=db.env(), timeout=ANALYTICS_TIMEOUT_SECONDS, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"the analytics run failed with exit status {completed.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def bench_database(db: BenchDatabase, args: argparse.Namespace, machine_info: dict[str, Any]) -> dict[str, Any]:
    print(f"\n== {db.label}: {db.tickets:,} tickets ==", flush=True)
    print("Preparing the database", flush=True)
    marker = dataset.prepare(db, days=args.days, seed=args.seed, regenerate=args.regenerate)
    upkeep = dataset.postgres_upkeep(db) if db.engine == "postgres" else []
    if args.prepare_only:
        return {}
    result: dict[str, Any] = {
        "engine": db.engine,
        "label": db.label,
        "settings": db.settings,
        "tickets": db.tickets,
        "database": dataset.describe(db),
        "dataset": marker,
        "upkeep": upkeep,
        "size_bytes": dataset.database_size_bytes(db),
        "machine": machine_info,
        "started_at": _now(),
        "loadavg_before": list(os.getloadavg()),
    }
    with tempfile.TemporaryDirectory(dir=db.data_dir, prefix="bench-run-") as tmp:
        print("Server time per request (in-process, django.test.Client)", flush=True)
        result["cpu_busy_before_latency"] = machine.wait_until_quiet(args.wait_idle)
        started = time.monotonic()
        result["latency"], fixtures = measure_latency(db, args, Path(tmp))
        result["latency_seconds"] = round(time.monotonic() - started, 1)
        if args.skip_analytics:
            result["analytics"] = None
        else:
            print("Analytics pages and metrics (in-process, django.test.Client)", flush=True)
            result["cpu_busy_before_analytics"] = machine.wait_until_quiet(args.wait_idle)
            started = time.monotonic()
            result["analytics"] = measure_analytics(db, args, Path(tmp))
            result["analytics_seconds"] = round(time.monotonic() - started, 1)
        if args.skip_throughput:
            result["throughput"] = None
        else:
            print("Throughput through gunicorn on 127.0.0.1", flush=True)
            result["cpu_busy_before_throughput"] = machine.wait_until_quiet(args.wait_idle)
            result["throughput"] = throughput.run(
                db, fixtures, duration=args.duration, warmup=args.throughput_warmup, log=db.data_dir / "gunicorn.log"
            )
        if args.skip_browser or not fixtures.get("page_user"):
            result["first_paint"] = None
        else:
            print("First paint in the browser (chromium through gunicorn)", flush=True)
            result["cpu_busy_before_first_paint"] = machine.wait_until_quiet(args.wait_idle)
            result["first_paint"] = first_paint.run(
                db, fixtures, loads=args.paint_loads, log=db.data_dir / "gunicorn-paint.log"
            )
    result["finished_at"] = _now()
    return result


def save(result: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = result["started_at"].replace("+00:00", "Z").replace(":", "").replace("+00:00", "Z")
    variant = "" if result["settings"] == "deskpilot.settings" else f"-{result['settings']}"
    path = RESULTS_DIR / f"{stamp}-{result['engine']}-{result['tickets']}{variant}.json"
    text = json.dumps(result, indent=1)
    path.write_text(text)
    if not variant:
        (RESULTS_DIR / f"latest-{result['engine']}.json").write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        latest = report.latest_results()
        print(report.markdown(latest))
        if args.write_docs:
            report.write_docs(latest)
            print(f"updated {report.DOCS_FILE.relative_to(REPO)}")
        return 0
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    machine_info = machine.describe()
    results: dict[str, dict[str, Any]] = {}
    failures = 0
    for engine in engines:
        db = BenchDatabase(engine, args.tickets, settings=args.settings)
        if engine == "postgres":
            reason = dataset.postgres_reachable()
            if reason is not None:
                print(f"\n== PostgreSQL: skipped, the server does not answer ({reason}) ==", flush=True)
                continue
        try:
            result = bench_database(db, args, machine_info)
            if not result:
                continue
        except (dataset.PrepareError, RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"{db.label}: {error}", file=sys.stderr, flush=True)
            failures += 1
            continue
        print(f"results: {save(result).relative_to(REPO)}", flush=True)
        results[engine] = result
    if results:
        print("\n" + report.markdown(results))
    if args.write_docs and args.settings == "deskpilot.settings":
        report.write_docs(report.latest_results())
        print(f"updated {report.DOCS_FILE.relative_to(REPO)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
