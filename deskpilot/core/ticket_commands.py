"""The shape of the commands that go over every ticket again in bulk (``sla-recompute``,
``metrics-rebuild``): ``--from-id`` to resume, ``--workers`` processes sharing the work, a progress
bar over the tickets, a line of totals at the end."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot.cli import progress_bar, whole_number
from deskpilot.tickets.models import Ticket


class TicketRangeCommand(BaseCommand):
    # What the progress bar says it is working on.
    label = "Tickets"

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
        with progress_bar(self, self.label) as progress:
            task = progress.add_task("tickets", total=total)
            totals = self.run(from_id=start - 1, workers=workers, progress=lambda n: progress.advance(task, n))
        self.report(totals)

    def run(self, *, from_id: int, workers: int, progress: Callable[[int], None]) -> Any:
        """Do the work for the tickets with ids above ``from_id``; returns the totals ``report`` takes."""
        raise NotImplementedError

    def report(self, totals: Any) -> None:
        raise NotImplementedError
