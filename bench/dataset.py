"""Preparing a benchmark database once and reusing it.

A database counts as ready when its marker file (bench-dataset.json in its data directory) says
it was generated with the requested size and the database is still there. Anything else (no
marker, an interrupted generation, a dropped PostgreSQL database) is wiped and generated again
with the demo generator, whose own progress bar is shown. Every run also applies pending
migrations, so the benchmark always measures the schema of the checked-out code.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import time
from typing import Any

import psycopg
from psycopg import sql

from bench.common import PG_SERVER, PYTHON, REPO, BenchDatabase


class PrepareError(RuntimeError):
    pass


def _pg_connect(dbname: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(f"{PG_SERVER}/{dbname}", connect_timeout=3, autocommit=True)


def postgres_reachable() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        with _pg_connect() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def postgres_version() -> str | None:
    try:
        with _pg_connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error:
        return None
    return str(row[0]) if row else None


def _pg_exists(name: str) -> bool:
    with _pg_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _pg_recreate(name: str) -> None:
    with _pg_connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_size_bytes(db: BenchDatabase) -> int:
    if db.engine == "postgres":
        with _pg_connect() as conn:
            row = conn.execute("SELECT pg_database_size(%s)", [db.pg_name]).fetchone()
        return int(row[0]) if row else 0
    return sum(p.stat().st_size for p in db.data_dir.glob("deskpilot.sqlite3*") if p.is_file())


def postgres_upkeep(db: BenchDatabase) -> list[str]:
    """Do what autovacuum does for a database that has just been bulk-loaded: VACUUM (ANALYZE)
    tables never vacuumed and ANALYZE tables with more than 10 % of their rows changed since
    their statistics were taken (the thresholds of autovacuum's defaults). The PostgreSQL that
    ships on some developer machines runs with autovacuum = off; without this, the tables the
    demo generator does not analyze itself (the search index) have no statistics at all and
    plans are guessed. Returns what was done."""
    done: list[str] = []
    with _pg_connect(db.pg_name) as conn:
        autovacuum = conn.execute("SHOW autovacuum").fetchone()
        rows = conn.execute(
            "SELECT relname, n_live_tup, n_mod_since_analyze,"
            " coalesce(last_vacuum, last_autovacuum) IS NULL,"
            " coalesce(last_analyze, last_autoanalyze) IS NULL"
            " FROM pg_stat_user_tables ORDER BY relname"
        ).fetchall()
        for name, live, modified, never_vacuumed, never_analyzed in rows:
            if never_vacuumed and live > 1000:
                command = "VACUUM (ANALYZE)"
            elif never_analyzed or modified > 0.1 * live + 50:
                command = "ANALYZE"
            else:
                continue
            print(f"  {command} {name} ({live:,} rows)", flush=True)
            started = time.monotonic()
            statement = sql.SQL("VACUUM (ANALYZE) {}") if command.startswith("VACUUM") else sql.SQL("ANALYZE {}")
            conn.execute(statement.format(sql.Identifier(name)))
            done.append(f"{command} {name} ({time.monotonic() - started:.0f} s)")
    if done and autovacuum and autovacuum[0] == "off":
        done.insert(0, "autovacuum is off on this server")
    return done


def read_marker(db: BenchDatabase) -> dict[str, Any] | None:
    try:
        data = json.loads(db.marker.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_ready(db: BenchDatabase) -> bool:
    marker = read_marker(db)
    if marker is None or marker.get("tickets") != db.tickets or marker.get("engine") != db.engine:
        return False
    if db.engine == "postgres":
        return _pg_exists(db.pg_name)
    return db.sqlite_file.exists()


def _run(db: BenchDatabase, args: list[str], what: str) -> None:
    """A manage.py command in the database's environment; its output (progress) goes straight
    to the terminal."""
    command = [PYTHON, "manage.py", *args]
    print(f"  $ {' '.join(args)}", flush=True)
    result = subprocess.run(command, cwd=REPO, env=db.env(), check=False)
    if result.returncode != 0:
        raise PrepareError(f"{what} failed with exit status {result.returncode} ({' '.join(command)})")


def _wipe(db: BenchDatabase) -> None:
    db.marker.unlink(missing_ok=True)
    if db.engine == "postgres":
        _pg_recreate(db.pg_name)
    # The data directory also holds the secret key, the job store and attachments of the old data.
    if db.data_dir.exists():
        shutil.rmtree(db.data_dir)
    db.data_dir.mkdir(parents=True)


def demo_generator_available() -> bool:
    return any((REPO / "deskpilot").glob("*/management/commands/demo_data.py"))


def prepare(db: BenchDatabase, *, days: int, seed: int, regenerate: bool = False) -> dict[str, Any]:
    """Make sure ``db`` holds the demo data set of the requested size; returns its marker."""
    db.data_dir.mkdir(parents=True, exist_ok=True)
    if not regenerate and _is_ready(db):
        print(f"  reusing {describe(db)} (generated {read_marker(db).get('generated_at')})", flush=True)  # type: ignore[union-attr]
        _run(db, ["migrate", "--no-input", "-v", "0"], "migrate")
        marker = read_marker(db)
        assert marker is not None
        return marker
    if not demo_generator_available():
        raise PrepareError("the demo generator (manage.py demo_data) is not in this checkout yet")
    print(f"  generating {db.tickets:,} tickets into {describe(db)}; this takes a while", flush=True)
    _wipe(db)
    started = time.monotonic()
    _run(db, ["migrate", "--no-input", "-v", "0"], "migrate")
    _run(
        db,
        ["demo_data", "--tickets", str(db.tickets), "--days", str(days), "--seed", str(seed)],
        "demo data generation",
    )
    marker = {
        "engine": db.engine,
        "tickets": db.tickets,
        "days": days,
        "seed": seed,
        "code": _code_version(),
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "generation_seconds": round(time.monotonic() - started, 1),
    }
    db.marker.write_text(json.dumps(marker, indent=2) + "\n")
    print(f"  generated in {marker['generation_seconds']:.0f} s", flush=True)
    return marker


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _code_version() -> str:
    """The commit the generator ran from, and whether its files had uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--", "deskpilot/demo", "deskpilot/core/management/commands/demo_data.py")
    return f"{commit} with uncommitted demo generator changes" if changed else commit


def describe(db: BenchDatabase) -> str:
    if db.engine == "postgres":
        return f"PostgreSQL database {db.pg_name}"
    return f"SQLite {db.sqlite_file.relative_to(REPO)}"
