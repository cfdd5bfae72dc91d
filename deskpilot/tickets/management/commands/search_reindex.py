"""``deskpilot search-reindex``: rebuild the full-text index from the tickets and messages.

Needed after restoring a database from a dump that left out the search table, after moving
between SQLite and PostgreSQL, or to check that the index matches the data. The pages and the API
keep the index in step by themselves; this is the repair tool. Works in id order and batches,
one transaction per batch: it can be interrupted and rerun, and resumed with ``--from-id``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from deskpilot.cli import progress_bar, whole_number
from deskpilot.core import search
from deskpilot.tickets.models import Message, Ticket


def documents(ticket_rows: list[tuple[int, str]]) -> list[search.SearchDocument]:
    """The search documents of a batch of (id, subject) rows, with one query for their messages."""
    public: dict[int, list[str]] = {pk: [] for pk, _ in ticket_rows}
    internal: dict[int, list[str]] = {pk: [] for pk, _ in ticket_rows}
    messages = (
        Message.objects.filter(ticket_id__in=list(public))
        .order_by("ticket_id", "id")
        .values_list("ticket_id", "body_text", "public")
    )
    for ticket_id, body, is_public in messages:
        (public if is_public else internal)[ticket_id].append(body)
    return [
        search.SearchDocument(
            doc_id=pk, subject=subject, public_text="\n".join(public[pk]), internal_text="\n".join(internal[pk])
        )
        for pk, subject in ticket_rows
    ]


class Command(BaseCommand):
    help = "Rebuild the full-text search index of tickets and messages, in batches, with progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", default="1000", help="tickets per transaction (default 1000)")
        parser.add_argument("--from-id", default="1", help="start at this ticket id, to resume (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = whole_number("--batch", options["batch"])
        start = whole_number("--from-id", options["from_id"])
        remaining = Ticket.objects.filter(pk__gte=start)
        total = remaining.count()
        done = 0
        last = start - 1
        with progress_bar(self, "reindexing") as progress:
            task = progress.add_task("tickets", total=total)
            while True:
                rows = list(Ticket.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "subject")[:batch])
                if not rows:
                    break
                with transaction.atomic():
                    search.backend().replace(documents(rows))
                last = rows[-1][0]
                done += len(rows)
                progress.update(task, completed=done)
        self.stdout.write(f"Reindexed {done:,} tickets (ids {start} to {last}).")
