"""A local SMTP listener (aiosmtpd) that ingests what it receives: ``deskpilot mail smtpd``.

Meant to sit behind the organisation's mail server (which relays support mail to it) or to take
mail straight from an application on the same machine. It answers 250 only once the raw message
is stored (nothing is lost after that), and 451 when it could not be stored, so the sending
server keeps the message and tries again. Processing errors do not reach the sender: the message
is then in the failed mail list.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections

from deskpilot.mail import intake
from deskpilot.mail.models import InboundSource, Mailbox

logger = logging.getLogger(__name__)


def _mailbox_for(recipients: list[str]) -> Mailbox | None:
    wanted = [intake._base_address(r) for r in recipients]
    by_address = {m.address.lower(): m for m in Mailbox.objects.filter(active=True)}
    for address in wanted:
        if address in by_address:
            return by_address[address]
    return None


class IngestHandler:
    """aiosmtpd handler: each message goes to ``intake.receive`` in a worker thread (the
    database is used synchronously; one thread, so writes are not contended)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deskpilot-smtpd")

    def _receive(self, raw: bytes, recipients: list[str]) -> int:
        close_old_connections()
        try:
            inbound = intake.receive(raw, source=InboundSource.SMTP, mailbox=_mailbox_for(recipients))
            return inbound.pk
        finally:
            close_old_connections()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = [str(r) for r in envelope.rcpt_tos]
        loop = asyncio.get_running_loop()
        try:
            pk = await loop.run_in_executor(self._executor, self._receive, raw, recipients)
        except intake.NotStored:
            return "451 4.3.0 The message could not be stored; please try again later"
        except Exception:
            logger.exception("SMTP listener: unexpected error storing a message")
            return "451 4.3.0 Temporary failure; please try again later"
        return f"250 2.0.0 Message accepted (inbound {pk})"

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def controller(host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """A started-on-demand listener (``.start()`` / ``.stop()``)."""
    return Controller(
        IngestHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.MAIL_MAX_MESSAGE_BYTES,
        decode_data=False,
        server_hostname="deskpilot",
        ident="Deskpilot SMTP listener",
    )
