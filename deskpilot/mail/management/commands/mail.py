"""``deskpilot mail``: the email channel's command line.

- ``mail ingest [--mailbox ADDRESS] < message.eml``: pipe delivery from a mail server (Postfix
  ``mailbox_command``, an ``/etc/aliases`` pipe, procmail...). Exit 0 once the message is stored,
  even when processing it failed (it is then in the failed mail list); exit 75 (EX_TEMPFAIL) when
  it could not be stored, so the mail server keeps it and retries.
- ``mail import PATH``: a Maildir, an mbox file or a directory of .eml files, with progress.
  Rerunnable: messages already imported are recognised as duplicates and create nothing.
- ``mail smtpd --port N [--host 127.0.0.1]``: a local SMTP listener.
- ``mail retry [--all | ID ...]``: process failed mail again.
- ``mail poll [--mailbox ADDRESS]``: read the IMAP mailboxes once (what the job worker does every
  minute).
"""

from __future__ import annotations

import mailbox as mailbox_formats
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from deskpilot import cli
from deskpilot.mail import (
    intake,
    intake_tasks,  # noqa: F401  (registers the inbound jobs where this runs)
)
from deskpilot.mail import raw as raw_store
from deskpilot.mail.models import InboundMail, InboundSource, InboundStatus, Mailbox
from deskpilot.tickets.models import Message

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure; the mail server queues the message and retries

SUBCOMMANDS = ("ingest", "import", "smtpd", "retry", "poll")


def _mailbox(address: str | None) -> Mailbox | None:
    if not address:
        return None
    found = Mailbox.objects.filter(address__iexact=address.strip()).first()
    if found is None:
        known = ", ".join(Mailbox.objects.values_list("address", flat=True)) or "none configured"
        raise cli.usage_error(f"--mailbox: no mailbox {address!r} (mailboxes: {known})")
    return found


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise cli.usage_error(f"--port: {value!r} is not a port number") from None
    if not 0 < port < 65536:
        raise cli.usage_error(f"--port: {port} is not between 1 and 65535")
    return port


def outcome(inbound: InboundMail) -> str:
    """What became of one message: created, threaded, duplicate, failed, spam or noted."""
    if inbound.status == InboundStatus.PROCESSED:
        if inbound.message_id is None or inbound.ticket_id is None:
            return "noted"  # a bounce, complaint or automatic reply recorded without a message
        first = Message.objects.filter(ticket_id=inbound.ticket_id).order_by("id").values_list("pk", flat=True).first()
        message = Message.objects.filter(pk=inbound.message_id).values_list("public", flat=True).first()
        if first == inbound.message_id:
            return "created"
        return "threaded" if message else "noted"
    if inbound.status in (InboundStatus.DUPLICATE, InboundStatus.IGNORED):
        return "duplicate"
    return str(inbound.status)


def messages_at(path: Path) -> tuple[str, int, Iterator[bytes]]:
    """The kind of ``path`` (Maildir, mbox, directory), how many messages it holds, and their
    raw bytes one by one."""
    if path.is_dir():
        if (path / "cur").is_dir() and (path / "new").is_dir():
            maildir = mailbox_formats.Maildir(str(path), factory=None, create=False)
            keys = sorted(maildir.keys())
            return "Maildir", len(keys), (maildir.get_bytes(k) for k in keys)
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".eml", ".msg", ".box"))
        return "directory", len(files), (p.read_bytes() for p in files)
    if path.is_file():
        with path.open("rb") as handle:
            head = handle.read(5)
        if head == b"From ":
            mbox = mailbox_formats.mbox(str(path), factory=None, create=False)
            keys = list(mbox.keys())
            return "mbox", len(keys), (mbox.get_bytes(k) for k in keys)
        return "file", 1, iter([path.read_bytes()])
    raise cli.usage_error(f"PATH: {str(path)!r} does not exist")


class Command(BaseCommand):
    # ``stdin`` (a binary file) lets callers in the same process, such as tests, pipe a message.
    stealth_options = ("stdin",)
    help = (
        "Email intake: 'mail ingest' (pipe delivery from stdin), 'mail import PATH' (Maildir, mbox "
        "or .eml files), 'mail smtpd' (SMTP listener), 'mail retry' (failed mail), 'mail poll' (IMAP once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="action", title="actions", metavar="ACTION")
        ingest = subs.add_parser(
            "ingest",
            help="ingest one message from standard input (a mail server's pipe delivery)",
            description=(
                "Read one RFC 822 message from standard input, store it, and turn it into a ticket or "
                "a reply. Exit 0 once the message is stored (even if processing failed: it is then in "
                "the failed mail list); exit 75 (EX_TEMPFAIL) if it could not be stored, so the mail "
                "server retries later."
            ),
        )
        ingest.add_argument("--mailbox", metavar="ADDRESS", help="the support address it was sent to")
        imp = subs.add_parser(
            "import",
            help="import a Maildir, an mbox file or a directory of .eml files (with progress)",
            description=(
                "Import every message at PATH: a Maildir (with cur/ and new/), an mbox file, a "
                "directory of .eml files (searched recursively) or a single .eml file. Safe to rerun: "
                "messages imported before are duplicates and create nothing. Prints a summary."
            ),
        )
        imp.add_argument("path", metavar="PATH", help="Maildir, mbox file, or directory of .eml files")
        imp.add_argument("--mailbox", metavar="ADDRESS", help="the support address the messages were sent to")
        smtpd = subs.add_parser(
            "smtpd",
            help="run a local SMTP listener that ingests what it receives",
            description=(
                "Listen for SMTP on HOST:PORT and ingest every message received. Answers 250 once the "
                "message is stored, 451 when it could not be (the sender retries). Ctrl-C stops it. "
                "Largest message: DESKPILOT_MAIL_MAX_MESSAGE_BYTES."
            ),
        )
        smtpd.add_argument("--port", required=True, help="TCP port to listen on, e.g. 2525")
        smtpd.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        retry = subs.add_parser(
            "retry",
            help="process failed mail again",
            description="Process failed inbound mail again: the given ids, or --all failed messages.",
        )
        retry.add_argument("ids", nargs="*", metavar="ID", help="inbound mail ids (see /mail/failed)")
        retry.add_argument("--all", action="store_true", help="every failed message")
        poll = subs.add_parser(
            "poll",
            help="read the IMAP mailboxes once",
            description="Poll every active IMAP mailbox once (the job worker does this every minute).",
        )
        poll.add_argument("--mailbox", metavar="ADDRESS", help="only this mailbox")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action")
        if action not in SUBCOMMANDS:
            raise cli.usage_error(f"missing action: use 'deskpilot mail {{{','.join(SUBCOMMANDS)}}}' (see --help)")
        getattr(self, f"_{action}")(options)

    # --- ingest --------------------------------------------------------------------------------

    def _ingest(self, options: dict[str, Any]) -> None:
        mailbox = _mailbox(options.get("mailbox"))
        stdin = options.get("stdin") or sys.stdin.buffer
        if stdin is sys.stdin.buffer and cli.interactive():
            raise cli.usage_error("give the message on standard input: deskpilot mail ingest < message.eml")
        raw = stdin.read()
        if not raw.strip():
            raise cli.usage_error("standard input is empty: no message to ingest")
        try:
            inbound = intake.receive(raw, source=InboundSource.PIPE, mailbox=mailbox)
        except intake.NotStored as error:
            raise CommandError(
                f"the message could not be stored, try again later: {error}", returncode=EX_TEMPFAIL
            ) from None
        line = f"inbound {inbound.pk}: {outcome(inbound)}"
        if inbound.ticket_id:
            line += f" (ticket {inbound.ticket_id})"
        if inbound.status == InboundStatus.FAILED:
            line += f" — {inbound.error.splitlines()[0]}"
        self.stdout.write(line)

    # --- import --------------------------------------------------------------------------------

    def _import(self, options: dict[str, Any]) -> None:
        mailbox = _mailbox(options.get("mailbox"))
        kind, total, messages = messages_at(Path(options["path"]))
        counts: Counter[str] = Counter()
        with cli.progress_bar(self, f"importing {kind}") as progress:
            task = progress.add_task("messages", total=total)
            for raw in messages:
                counts[self._import_one(raw, mailbox)] += 1
                progress.advance(task)
        self.stdout.write(
            f"Imported {total} message(s) from {kind} {options['path']}: "
            f"{counts['created']} created, {counts['threaded']} threaded, {counts['noted']} noted, "
            f"{counts['duplicate']} duplicates, {counts['failed']} failed, {counts['spam']} spam."
        )
        if counts["failed"]:
            self.stdout.write("Failed messages are kept: see /mail/failed, or 'deskpilot mail retry --all'.")

    def _import_one(self, raw: bytes, mailbox: Mailbox | None) -> str:
        # A rerun skips what was imported before without storing a second row for it.
        digest = raw_store.sha256(raw)
        seen = InboundMail.objects.filter(raw_sha256=digest).exclude(status=InboundStatus.FAILED).exists()
        if seen:
            return "duplicate"
        try:
            inbound = intake.receive(raw, source=InboundSource.IMPORT, mailbox=mailbox)
        except intake.NotStored as error:
            raise CommandError(f"a message could not be stored ({error}); stopped, rerun to resume") from None
        return outcome(inbound)

    # --- smtpd ---------------------------------------------------------------------------------

    def _smtpd(self, options: dict[str, Any]) -> None:
        from deskpilot.mail.smtpd import controller

        port = _port(options["port"])
        listener = controller(host=options["host"], port=port)
        try:
            listener.start()
        except Exception as error:  # the port is taken, or the address is not ours
            raise cli.usage_error(f"--port: cannot listen on {options['host']}:{port}: {error}") from None
        self.stdout.write(
            f"SMTP listener on {options['host']}:{port} (largest message {settings.MAIL_MAX_MESSAGE_BYTES} bytes). "
            "Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()
            listener.handler.close()

    # --- retry ---------------------------------------------------------------------------------

    def _retry(self, options: dict[str, Any]) -> None:
        raw_ids: list[str] = options["ids"]
        if options["all"] and raw_ids:
            raise cli.usage_error("give either --all or message ids, not both")
        if not options["all"] and not raw_ids:
            raise cli.usage_error("give message ids to retry, or --all")
        ids: list[int] | None = None
        if raw_ids:
            try:
                ids = [int(i) for i in raw_ids]
            except ValueError:
                raise cli.usage_error(f"ID: {raw_ids!r} are not all inbound mail ids (whole numbers)") from None
            missing = sorted(set(ids) - set(InboundMail.objects.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise cli.usage_error(f"ID: no inbound mail {', '.join(map(str, missing))}")
        results = intake.retry(ids)
        counts = Counter(outcome(r) for r in results)
        self.stdout.write(
            f"Retried {len(results)} message(s): "
            + ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
            + ("." if results else "nothing to retry.")
        )
        for row in results:
            if row.status == InboundStatus.FAILED:
                self.stdout.write(f"  inbound {row.pk} still fails: {row.error.splitlines()[0] if row.error else ''}")

    # --- poll ----------------------------------------------------------------------------------

    def _poll(self, options: dict[str, Any]) -> None:
        from deskpilot.mail import imap

        address = options.get("mailbox")
        if address:
            found = _mailbox(address)
            assert found is not None
            if not found.polls_imap:
                raise cli.usage_error(f"--mailbox: {found.address} has no IMAP settings (or is inactive)")
        results = imap.poll_all(address)
        if not results:
            self.stdout.write("No active mailbox with IMAP settings.")
        for result in results:
            line = f"{result.mailbox}: {result.stored} stored of {result.fetched} fetched"
            if result.failed:
                line += f", {result.failed} failed to process"
            if result.error:
                line += f"; error: {result.error}"
            self.stdout.write(line)
