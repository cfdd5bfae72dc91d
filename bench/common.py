"""What every part of the benchmark agrees on: where the databases live, the targets, the
environment a child process (migrate, demo_data, the latency probe, gunicorn) runs with.

The orchestrator (bench.run) never imports Django settings itself: each database is measured in
its own child process, so SQLite and PostgreSQL never share a configured Django.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
DOCS_FILE = REPO / "docs" / "performance.md"
# The virtualenv's interpreter when there is one (make bench), else whoever runs us.
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")

DEFAULT_TICKETS = 1_000_000
DEFAULT_DAYS = 365
DEFAULT_SEED = 20261123

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PG_DATABASE = "deskpilot_bench"

# The product issue's targets: p95 server time in milliseconds.
TARGETS_MS = {
    "list": 30.0,
    "detail": 25.0,
    "create": 40.0,
    "search": 150.0,
    "page_inbox": 100.0,
    "page_ticket": 80.0,
}
# First contentful paint in the browser (bench.first_paint), judged on the slower of the two pages.
FIRST_PAINT_MS = 1000.0
TARGET_LABELS = {
    "list": "Ticket list, first page, status + team filter",
    "detail": "Ticket detail with 20 messages",
    "create": "Ticket create",
    "search": "Full-text search (`?q=`), worst of common / rare / two-word",
    "page_inbox": "Inbox page (built-in and filtered views)",
    "page_ticket": "Ticket page with 20 messages",
}
DB_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class BenchDatabase:
    """One benchmark database: an engine and a size. The default size lives at the documented
    places (var/bench-sqlite/, database deskpilot_bench); other sizes get their own, so a quick
    run with --tickets 10000 never replaces the 1M database."""

    engine: str  # "sqlite" or "postgres"
    tickets: int
    # Another settings module (importable from the repository or PYTHONPATH) to measure a
    # proposed change without editing deskpilot/settings.py; results are then kept apart.
    settings: str = "deskpilot.settings"

    @property
    def suffix(self) -> str:
        return "" if self.tickets == DEFAULT_TICKETS else f"-{self.tickets}"

    @property
    def label(self) -> str:
        return DB_LABELS[self.engine]

    @property
    def data_dir(self) -> Path:
        return REPO / "var" / f"bench-{self.engine}{self.suffix}"

    @property
    def sqlite_file(self) -> Path:
        return self.data_dir / "deskpilot.sqlite3"

    @property
    def pg_name(self) -> str:
        return PG_DATABASE + self.suffix.replace("-", "_")

    @property
    def database_url(self) -> str | None:
        return f"{PG_SERVER}/{self.pg_name}" if self.engine == "postgres" else None

    @property
    def marker(self) -> Path:
        """Written once generation has finished; without it the database is regenerated."""
        return self.data_dir / "bench-dataset.json"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Only the variables that pick the database and keep the output quiet are ours; a Redis
        # URL would move the cache and the job queue off the machine, so it is dropped too.
        for name in ("DATABASE_URL", "DESKPILOT_REDIS_URL", "DESKPILOT_DEBUG", "DESKPILOT_JOBS_IMMEDIATE"):
            env.pop(name, None)
        env["DJANGO_SETTINGS_MODULE"] = self.settings
        env["DESKPILOT_DATA_DIR"] = str(self.data_dir)
        env["DESKPILOT_LOG_LEVEL"] = "WARNING"
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (p95 of 300 samples is the 285th)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * fraction // 1))
    return sorted_values[int(rank) - 1]


def summarize_ms(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else float("nan"),
        "mean": sum(ordered) / len(ordered) if ordered else float("nan"),
    }
