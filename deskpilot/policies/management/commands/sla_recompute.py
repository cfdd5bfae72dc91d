"""``deskpilot sla-recompute``: every ticket's SLA state again from its events (policies.sla_rebuild).

After an import or a restore, on demo data, or when the SLA state is in doubt. The live path keeps
the state current by itself; this is the rebuild tool. Chunked, one transaction per chunk,
shared between worker processes (``--workers``), resumable with ``--from-id``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deskpilot.core.ticket_commands import TicketRangeCommand
from deskpilot.policies.sla_rebuild import Totals, recompute_all


class Command(TicketRangeCommand):
    help = "Recompute every ticket's SLA clocks from its events, in chunks, with progress."
    label = "SLA clocks"

    def run(self, *, from_id: int, workers: int, progress: Callable[[int], None]) -> Totals:
        return recompute_all(from_id=from_id, workers=workers, progress=progress)

    def report(self, totals: Any) -> None:
        self.stdout.write(
            f"Recomputed {totals.tickets:,} tickets ({totals.with_policy:,} under an SLA policy); "
            f"recorded {totals.findings:,} warnings and breaches."
        )
