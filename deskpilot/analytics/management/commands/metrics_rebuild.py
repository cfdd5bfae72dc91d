"""``deskpilot metrics-rebuild``: every ticket's metrics record again from its events (analytics.rebuild).

After an import or a restore, on demo data (written without the live path), or when a metric's
definition changed. The live path keeps the records current by itself; this is the rebuild tool.
Chunked, one transaction per chunk, shared between worker processes (``--workers``), resumable with
``--from-id``.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot.analytics.rebuild import rebuild_all
from deskpilot.cli import progress_bar, whole_number
from deskpilot.tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute every ticket's metrics record from its events, in chunks, with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        # Numbers are read as text and checked in handle(): a bad value gets the one-line usage
        # error naming the option (exit status 2), not argparse's usage dump.
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
        with progress_bar(self, "Ticket metrics") as progress:
            task = progress.add_task("tickets", total=total)
            totals = rebuild_all(from_id=start - 1, workers=workers, progress=lambda n: progress.advance(task, n))
        self.stdout.write(f"Rebuilt the metrics of {totals.tickets:,} tickets.")
        # The daily rollups are rebuilt from all the records at the end (analytics.rollups).
        self.stdout.write(f"Rebuilt {totals.rollup_rows:,} daily rollup rows.")
