"""``deskpilot demo-data``: load a believable demo operation (see deskpilot/demo)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from deskpilot.accounts.models import User
from deskpilot.demo import generator, signins
from deskpilot.demo.writer import IdsTaken
from deskpilot.mail import outbound
from deskpilot.tickets.models import Ticket

USAGE_ERROR = 2
INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C
MAX_TICKETS = 100_000_000
MAX_DAYS = 3_650


def _whole_number(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int within bounds, or the one-line usage error the CLI promises."""
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(text)
    except ValueError:
        raise CommandError(f"{name}: expected a whole number, got {text!r}", returncode=USAGE_ERROR) from None
    if number < minimum:
        raise CommandError(f"{name}: must be at least {minimum}, got {number}", returncode=USAGE_ERROR)
    if maximum is not None and number > maximum:
        raise CommandError(f"{name}: must be at most {maximum:,}, got {number:,}", returncode=USAGE_ERROR)
    return number


class RichProgress(generator.Progress):
    """Preparation steps as a spinner, then a bar for the tickets with rate and time left."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.written = 0
        self._stage: TaskID | None = None
        self._tickets: TaskID | None = None
        self._started = time.monotonic()

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end_stage()
        self.bar.stop()

    def _end_stage(self) -> None:
        if self._stage is not None:
            self.bar.update(self._stage, total=1, completed=1)
            self._stage = None

    def stage(self, description: str) -> None:
        self._end_stage()
        self._stage = self.bar.add_task(description, total=None, rate="")

    def start(self, total: int) -> None:
        self._end_stage()
        self._started = time.monotonic()
        self._tickets = self.bar.add_task("tickets", total=total, rate="")

    def task(self, description: str, total: int) -> Callable[[int], None]:
        self._end_stage()
        started, done = time.monotonic(), 0
        task = self.bar.add_task(description, total=total, rate="")

        def advance(count: int) -> None:
            nonlocal done
            done += count
            rate = done / max(time.monotonic() - started, 1e-6)
            self.bar.update(task, advance=count, rate=f"{rate:,.0f}/s")

        return advance

    def advance(self, tickets: int) -> None:
        self.written += tickets
        if self._tickets is not None:
            rate = self.written / max(time.monotonic() - self._started, 1e-6)
            self.bar.update(self._tickets, advance=tickets, rate=f"{rate:,.0f}/s")


class Command(BaseCommand):
    help = (
        "Load a believable demo operation: teams, agents, organizations, customers and tickets "
        "with conversations and histories spread over the last --days days. Rerunning adds more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Numbers are read as text and checked in handle(), so a bad value gets the one-line
        # error (exit status 2) of the house rules rather than argparse's usage dump.
        parser.add_argument("--tickets", default="3000", help="how many tickets to create (default 3000)")
        parser.add_argument("--days", default="90", help="the period they arrive in, ending now (default 90)")
        parser.add_argument("--seed", default="1", help="random seed: the same seed gives the same data (default 1)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if the database already has users (for `make run`)"
        )
        parser.add_argument(
            "--batch-size", default="auto", help="tickets per transaction (default: 2,000 to 20,000 by run size)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tickets = _whole_number("--tickets", options["tickets"], minimum=0, maximum=MAX_TICKETS)
        days = _whole_number("--days", options["days"], minimum=1, maximum=MAX_DAYS)
        seed = _whole_number("--seed", options["seed"], minimum=-(2**63))
        batch_size = None
        if str(options["batch_size"]) != "auto":
            batch_size = _whole_number("--batch-size", options["batch_size"], minimum=1, maximum=100_000)
        verbosity = int(options.get("verbosity", 1))
        if Ticket._meta.db_table not in connection.introspection.table_names():
            raise CommandError("the database has no tables yet: run `deskpilot migrate` first")

        if options["if_empty"] and User.objects.exists():
            if verbosity:
                self.stdout.write("The database already has users: no demo data added.")
                self._print_signins()
            return

        # rich writes control sequences in pieces; Django's OutputWrapper would add newlines.
        stream: IO[str] = getattr(self.stdout, "_out", sys.stdout)
        console = Console(file=stream)
        started = time.monotonic()
        progress = RichProgress(console, enabled=verbosity > 0)
        try:
            with progress:
                result = generator.generate(
                    tickets=tickets, days=days, seed=seed, batch_size=batch_size, progress=progress
                )
        except KeyboardInterrupt:
            raise CommandError(
                f"interrupted: {progress.written:,} tickets were written in complete batches and are kept; "
                "run the command again to add more",
                returncode=INTERRUPTED,
            ) from None
        except (IdsTaken, generator.HelperFailed) as error:
            raise CommandError(str(error)) from None
        # The generated replies are history: without this, the mail sweep would email the most
        # recent ones (it catches replies whose signal was lost) to the demo customers.
        outbound.record_replies_as_unsent("demo data: history, never emailed")
        if verbosity:
            seconds = time.monotonic() - started
            numbers = f" (#{result.first_ticket} to #{result.last_ticket})" if result.first_ticket is not None else ""
            self.stdout.write(
                f"Created {result.tickets:,} tickets{numbers} with {result.messages:,} messages and "
                f"{result.events:,} events over {days} days in {seconds:,.1f} s."
            )
            self._print_signins()

    def _print_signins(self) -> None:
        accounts = signins()
        if not accounts:
            return
        password = accounts[0][2]
        self.stdout.write(f"\nDemo sign-ins at {settings.BASE_URL}/ (password for all: {password}):")
        by_role: dict[str, list[str]] = {}
        for role, email, _ in accounts:
            by_role.setdefault(role, []).append(email)
        for role, emails in by_role.items():
            shown = ", ".join(emails) if len(emails) <= 3 else f"{emails[0]} … {emails[-1]} ({len(emails)})"
            self.stdout.write(f"  {role:<13} {shown}")
