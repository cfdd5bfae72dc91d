"""Proposed changes, measured without editing the product: A/B runs of bench.latency.

    .venv/bin/python -m bench.experiments pg-search-statistics

Each experiment runs the unchanged code (A) and the proposal (B) alternately, twice each, on the
benchmark database (prepare it first with ``make bench``), in child processes; the proposal is
applied in its child only, by replacing functions (a monkeypatch) or, for PostgreSQL settings,
by changing the database and changing it back afterwards. The figures behind the proposals in
docs/performance.md come from here. Once a proposal is in the product, its experiment goes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_TICKETS, PYTHON, REPO, BenchDatabase

EXPERIMENTS = {
    "pg-search-statistics": (
        "PostgreSQL: statistics target 1000 on ticket_search's tsvector columns",
        "search_common,search_rare,search_two_words",
    ),
}


# --- the proposals, as they would read in the product --------------------------------------------


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

    if name == "pg-search-statistics":
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
