"""IMAP polling: each mailbox with IMAP settings is read once a minute by the job worker
(``mail.poll_mailboxes`` in intake_tasks.py), or once by ``deskpilot mail poll``.

Unseen messages are fetched by UID without marking them seen, each is handed to the intake
(raw stored first), and only messages whose raw was stored are then marked seen, deleted or
moved, per the mailbox's setting. A message that could not be stored stays unseen on the server
and is fetched again next time. The outcome goes to ``last_polled_at`` / ``last_error``; the
password never appears in an error, a log line or an exception text.
"""

from __future__ import annotations

import contextlib
import email.message
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.mailbox import BaseMailBox

from deskpilot.mail import intake
from deskpilot.mail.models import AfterImport, ImapSecurity, InboundSource, InboundStatus, Mailbox

logger = logging.getLogger(__name__)

# Messages fetched per IMAP command: fast, and a bounded amount of memory.
BULK = 50


class _RawMessage(MailMessage):
    """imap-tools' message, keeping the bytes exactly as the server sent them (the intake
    stores and parses those) instead of parsing them a second time here."""

    def __init__(self, fetch_data: list) -> None:
        raw, uid_data, flag_data = self._get_message_data_parts(fetch_data)
        self._raw_uid_data = uid_data
        self._raw_flag_data = flag_data
        self.raw: bytes = raw
        self.obj = email.message.Message()


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    failed: int = 0  # stored, but processing failed (in the failed mail list)
    error: str = ""
    uids: list[str] = field(default_factory=list)


def _connect(mailbox: Mailbox) -> BaseMailBox:
    timeout = settings.MAIL_IMAP_TIMEOUT
    client: BaseMailBox
    if mailbox.imap_security == ImapSecurity.SSL:
        client = MailBox(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    elif mailbox.imap_security == ImapSecurity.STARTTLS:
        client = MailBoxStartTls(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    else:
        client = MailBoxUnencrypted(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
    client.email_message_class = _RawMessage
    return client


def _safe(text: str, mailbox: Mailbox) -> str:
    """An error text fit for the record: never the password, even when a server echoes it."""
    if mailbox.imap_password:
        text = text.replace(mailbox.imap_password, "********")
    return " ".join(text.split())[:1000]


def poll(mailbox: Mailbox) -> PollResult:
    """Read ``mailbox``'s unseen messages once. Never raises for a server's or network's
    failure: it is recorded in ``mailbox.last_error`` (and returned)."""
    result = PollResult(mailbox=mailbox.address)
    client: BaseMailBox | None = None
    try:
        client = _connect(mailbox)
        client.login(mailbox.imap_user, mailbox.imap_password, initial_folder=mailbox.imap_folder or "INBOX")
        done: list[str] = []
        for message in client.fetch(AND(seen=False), mark_seen=False, bulk=BULK):
            assert isinstance(message, _RawMessage)
            result.fetched += 1
            if message.uid is None:
                continue
            try:
                inbound = intake.receive(message.raw, source=InboundSource.IMAP, mailbox=mailbox)
            except intake.NotStored as error:
                # Left unseen on the server: the next poll fetches it again.
                result.error = f"a message could not be stored ({error}); it stays on the server"
                continue
            result.stored += 1
            if inbound.status == InboundStatus.FAILED:
                result.failed += 1
            done.append(message.uid)
        result.uids = done
        if done:
            if mailbox.after_import == AfterImport.DELETE:
                client.delete(done)
            elif mailbox.after_import == AfterImport.MOVE and mailbox.move_to_folder:
                client.move(done, mailbox.move_to_folder)
            else:
                client.flag(done, r"\Seen", True)
    except Exception as error:  # a server, network or configuration problem, kept for the admin
        name = type(error).__name__
        result.error = _safe(f"{name}: {error}", mailbox)
        logger.warning("IMAP poll of %s failed: %s", mailbox.address, result.error)
    finally:
        if client is not None:
            # A connection that never logged in, or already died, has nothing to close.
            with contextlib.suppress(Exception):
                client.logout()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=result.error)
    mailbox.last_error = result.error
    return result


def poll_all(address: str | None = None) -> list[PollResult]:
    """Poll every active mailbox with IMAP settings (or the one with ``address``)."""
    mailboxes = Mailbox.objects.filter(active=True).exclude(imap_host="").exclude(imap_user="")
    if address:
        mailboxes = mailboxes.filter(address__iexact=address)
    return [poll(mailbox) for mailbox in mailboxes]
