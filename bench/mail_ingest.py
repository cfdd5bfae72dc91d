"""Mail intake throughput: ``.venv/bin/python -m bench.mail_ingest [--messages 10000]``.

Ingests the email corpus ($DESKPILOT_TESTDATA/email, every .eml and .box) repeated with fresh
Message-IDs, end to end through ``deskpilot.mail.intake.receive`` (raw stored and fsynced, parsed,
classified, threaded, tickets and attachments written, search indexed) on SQLite in a temporary
data directory, and compares it with bare ``email.message_from_bytes`` on the same bytes.
The product issue's target is at least 100 messages/s. Prints the figures; writes nothing else.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

TARGET_PER_SECOND = 100.0
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*")


def corpus(root: Path) -> list[bytes]:
    files = sorted(p for p in (root / "email").rglob("*") if p.is_file() and p.suffix in (".eml", ".box"))
    if not files:
        sys.exit(f"error: no .eml files under {root / 'email'} (set DESKPILOT_TESTDATA)")
    return [p.read_bytes() for p in files]


def with_fresh_id(raw: bytes, n: int) -> bytes:
    """The message with a new Message-ID (so it is not a duplicate), every other byte kept."""
    newline = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    header = b"Message-ID: <bench." + str(n).encode() + b"@deskpilot.invalid>" + newline
    stripped = _MESSAGE_ID.sub(b"", raw, count=1)
    return header + stripped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="messages to ingest (default 10000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and print it")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")

    testdata = Path(os.environ.get("DESKPILOT_TESTDATA") or Path(__file__).resolve().parents[2] / "shared" / "testdata")
    samples = corpus(testdata)
    data_dir = Path(tempfile.mkdtemp(prefix="deskpilot-mail-bench-"))
    os.environ["DESKPILOT_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)  # SQLite, as the target says
    os.environ["DJANGO_SETTINGS_MODULE"] = "deskpilot.settings"
    os.environ.setdefault("DESKPILOT_LOG_LEVEL", "ERROR")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return _measure(samples, args.messages, data_dir)
    finally:
        if args.keep:
            print(f"data directory kept: {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _measure(samples: list[bytes], count: int, data_dir: Path) -> int:
    import email

    from deskpilot.mail import intake
    from deskpilot.mail.models import InboundSource
    from deskpilot.tickets.models import Attachment, Message, Ticket

    messages = [with_fresh_id(samples[i % len(samples)], i) for i in range(count)]
    total_bytes = sum(len(m) for m in messages)

    start = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw)
    bare = time.perf_counter() - start

    statuses: collections.Counter[str] = collections.Counter()
    step = max(1, count // 20)
    start = time.perf_counter()
    for i, raw in enumerate(messages, 1):
        statuses[intake.receive(raw, source=InboundSource.IMPORT).status] += 1
        if i % step == 0:
            elapsed = time.perf_counter() - start
            print(f"\r  ingested {i:,}/{count:,} ({i / elapsed:,.0f}/s)", end="", file=sys.stderr, flush=True)
    full = time.perf_counter() - start
    print(file=sys.stderr)

    rate = count / full
    print(f"Mail intake benchmark ({count:,} messages: {len(samples)} corpus messages repeated with fresh Message-IDs,")
    print(f"{total_bytes / 1e6:.1f} MB), SQLite in {data_dir}")
    print(f"  end to end (store + parse + thread + tickets):  {full:8.2f} s  {rate:8,.0f} messages/s  (target >= 100)")
    print(
        f"  bare email.message_from_bytes:                 {bare:8.2f} s  {count / bare:8,.0f} messages/s"
        f"  (intake is {full / bare:.1f}x the bare parse time)"
    )
    print(f"  per message: {full / count * 1000:.2f} ms end to end, {bare / count * 1000:.3f} ms bare parse")
    print(f"  outcomes: {dict(sorted(statuses.items()))}")
    print(
        f"  written: {Ticket.objects.count():,} tickets, {Message.objects.count():,} messages, "
        f"{Attachment.objects.count():,} attachments"
    )
    failed = statuses.get("failed", 0)
    if failed:
        print(f"  WARNING: {failed} message(s) failed")
    return 0 if rate >= TARGET_PER_SECOND and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
