"""``deskpilot metrics-rebuild``: every ticket's metrics record again from its events (analytics.rebuild).

After an import or a restore, on demo data (written without the live path), or when a metric's
definition changed. The live path keeps the records current by itself; this is the rebuild tool.
Chunked, one transaction per chunk, shared between worker processes (``--workers``), resumable with
``--from-id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deskpilot.analytics.rebuild import Totals, rebuild_all
from deskpilot.core.ticket_commands import TicketRangeCommand


class Command(TicketRangeCommand):
    help = "Recompute every ticket's metrics record from its events, in chunks, with progress."
    label = "Ticket metrics"

    def run(self, *, from_id: int, workers: int, progress: Callable[[int], None]) -> Totals:
        return rebuild_all(from_id=from_id, workers=workers, progress=progress)

    def report(self, totals: Any) -> None:
        self.stdout.write(f"Rebuilt the metrics of {totals.tickets:,} tickets.")
        # The daily rollups are rebuilt from all the records at the end (analytics.rollups).
        self.stdout.write(f"Rebuilt {totals.rollup_rows:,} daily rollup rows.")
