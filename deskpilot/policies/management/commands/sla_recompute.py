"""``deskpilot sla-recompute``: every ticket's SLA state again from its events (policies.sla_rebuild).

After an import or a restore, on demo data, or when the SLA state is in doubt. The live path keeps
the state current by itself; this is the rebuild tool. Chunked, one transaction per chunk,
shared between worker processes (``--workers``), resumable with ``--from-id``.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot.cli import progress_bar, whole_number
from deskpilot.policies.sla_rebuild import recompute_all
from deskpilot.tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute every ticket's SLA clocks from its events, in chunks, with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from-id", default="1", help="start at this ticket id, to resume (default 1)")
        parser.add_argument(
            "--workers",
            default=str(os.cpu_count() or 1),
            help="processes that share the work (default: one per CPU, here %(default)s)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start = whole_number("--from-id", options["from_id"])
        workers = whole_number("--workers", options["workers"])
        total = Ticket.objects.filter(pk__gte=start).count()
        with progress_bar(self, "SLA clocks") as progress:
            task = progress.add_task("tickets", total=total)
            totals = recompute_all(from_id=start - 1, workers=workers, progress=lambda n: progress.advance(task, n))
        self.stdout.write(
            f"Recomputed {totals.tickets:,} tickets ({totals.with_policy:,} under an SLA policy); "
            f"recorded {totals.findings:,} warnings and breaches."
        )
