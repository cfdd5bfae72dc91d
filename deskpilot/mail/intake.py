"""Inbound mail: from raw bytes to the right ticket.

``receive`` stores the raw message and its InboundMail row first, committed on their own, so
nothing received is ever lost; ``process`` then parses, classifies and threads it in one
transaction. Any error while processing leaves the row ``failed`` with the error, for the failed
mail list and a retry, and is never raised to the caller: a pipe delivery must not bounce a
customer's mail back because of a bug here.

Threading follows DOMAIN.md ("Email threading, in order of trust"):

1. In-Reply-To / References naming a Message-ID Deskpilot sent or stored (MailReference);
2. else a signed ticket token in the subject or in a plus-addressed reply address;
3. either way the sender must be a participant of that ticket, otherwise the mail starts a new
   ticket linked to it;
4. a reply to a closed ticket opens a linked follow-up (the tickets actions' own rule).

Noise never becomes a conversation: spam is kept for the spam list, bounces and complaints
become internal notes and mark the address as bouncing, automatic replies are recorded and at
most noted internally (they never reopen a ticket or trigger automatic mail).
"""

from __future__ import annotations

import datetime
import email.parser
import email.policy
import email.utils
import functools
import hashlib
import importlib
import logging
import re
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, User
from deskpilot.core.errors import DeskpilotError
from deskpilot.core.html import html_to_text, text_to_html
from deskpilot.customers.actions import emails_matching, find_or_create_customer
from deskpilot.customers.models import Customer
from deskpilot.mail import raw as raw_store
from deskpilot.mail import tokens
from deskpilot.mail.models import (
    InboundMail,
    InboundSource,
    InboundStatus,
    Mailbox,
    MailKind,
    MailReference,
    OutboundMail,
)
from deskpilot.mail.parsing import ParsedAttachment, ParsedMail, parse
from deskpilot.tickets import actions
from deskpilot.tickets import attachments as attachment_files
from deskpilot.tickets.models import Channel, LinkKind, Message, Status, Ticket, TicketLink, Via

logger = logging.getLogger(__name__)

SUBJECT_MAX = actions.SUBJECT_MAX
NO_SUBJECT = "(no subject)"
# The requester of mail that names no sender (.invalid is reserved: RFC 2606).
UNKNOWN_SENDER = "unknown-sender@deskpilot.invalid"
# Statuses of an earlier copy that make a new copy a duplicate: it was dealt with. A failed or
# unprocessed earlier copy does not count: the new copy is processed, and the old one becomes
# its duplicate when retried.
_DEALT_WITH = (InboundStatus.PROCESSED, InboundStatus.SPAM, InboundStatus.IGNORED)
_PLUS = re.compile(r"\+[^@]*@")


class NotStored(Exception):
    """The raw message could not be kept (disk or database unavailable). Nothing was accepted:
    the sender (an MTA, an SMTP client, the IMAP poll) must try again later."""


# --- entry points ------------------------------------------------------------------------------


def receive(raw: bytes, *, source: str, mailbox: Mailbox | None = None) -> InboundMail:
    """Store ``raw`` and process it. Raises NotStored only when the message could not be kept;
    every later problem is recorded on the returned InboundMail (status ``failed``)."""
    if source not in InboundSource.values:
        raise ValueError(f"unknown source {source!r}")
    try:
        # Pipe, SMTP and IMAP hand over mail that exists nowhere else once it is accepted: it is
        # on the disk (fsync) before we answer. An import reads files that stay where they are:
        # after a crash the rerun imports what is missing (duplicates are skipped), so it skips
        # the fsync, a fifth of the time per message.
        digest = raw_store.store(raw, durable=source != InboundSource.IMPORT)
        # Committed on its own (outside any caller's transaction only if there is none): from
        # here on the message is on record whatever happens while processing it.
        with transaction.atomic():
            inbound = InboundMail.objects.create(mailbox=mailbox, source=source, raw_sha256=digest, size=len(raw))
    except Exception as error:
        logger.exception("inbound mail could not be stored")
        raise NotStored(f"{type(error).__name__}: {error}") from error
    return _process(inbound, fresh=True)


def process(inbound: InboundMail, *, not_spam: bool = False) -> InboundMail:
    """Parse, classify and thread a stored message (again). Idempotent: a message already
    processed, or a duplicate, is returned as it is. ``not_spam`` processes a message from the
    spam list as normal mail (an admin's decision). Never raises."""
    return _process(inbound, not_spam=not_spam)


def _process(inbound: InboundMail, *, not_spam: bool = False, fresh: bool = False) -> InboundMail:
    run: _Run | None = None
    try:
        with transaction.atomic():
            # A row created a moment ago by receive() is known to nobody else: no need to lock
            # and re-read it. Any other (a retry, two workers) is locked, and its status re-read.
            locked = inbound if fresh else InboundMail.objects.select_for_update().get(pk=inbound.pk)
            if locked.status in (InboundStatus.PROCESSED, InboundStatus.DUPLICATE, InboundStatus.IGNORED):
                return locked
            if locked.status == InboundStatus.SPAM and not not_spam:
                return locked
            run = _Run(locked, not_spam=not_spam)
            run.go()
            return locked
    except Exception as error:
        stage = getattr(error, "_deskpilot_stage", "processing")
        text = _error_text(error, stage)
        logger.warning("inbound mail %s failed while %s: %s", inbound.pk, stage, error)
        fields: dict[str, Any] = {"status": InboundStatus.FAILED, "error": text, "attempts": F("attempts") + 1}
        if run is not None and run.parsed is not None:
            # What the failed mail list shows: who wrote, about what (when parsing got that far).
            fields.update(_header_fields(run.parsed))
        InboundMail.objects.filter(pk=inbound.pk).update(**fields)
        inbound.refresh_from_db()
        return inbound


def retry(ids: Iterable[int] | None = None) -> list[InboundMail]:
    """Process failed mail again: the given ids, or every failed message (and any left
    unprocessed by a crash more than ten minutes ago)."""
    if ids is None:
        stale = timezone.now() - datetime.timedelta(minutes=10)
        rows = InboundMail.objects.filter(status=InboundStatus.FAILED) | InboundMail.objects.filter(
            status=InboundStatus.RECEIVED, received_at__lt=stale
        )
    else:
        rows = InboundMail.objects.filter(pk__in=list(ids))
    return [process(row) for row in rows.order_by("received_at", "id")]


def _header_fields(parsed: ParsedMail) -> dict[str, str]:
    return {
        "message_id_header": parsed.message_id[:998],
        "sender": (parsed.sender.email if parsed.sender else "")[:320],
        "subject": " ".join((parsed.subject or "").split())[:998],
        "kind": parsed.kind if parsed.kind in MailKind.values else MailKind.NORMAL,
    }


def _error_text(error: BaseException, stage: str) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/deskpilot/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    summary = f"{type(error).__name__} while {stage}{where}: {error}"
    detail = "".join(traceback.format_exception(error)[-6:])
    return (summary + "\n\n" + detail)[:4000]


# --- one run -----------------------------------------------------------------------------------


@dataclass
class _Target:
    ticket: Ticket
    by: str  # "reference" or "token"


@dataclass
class _Run:
    inbound: InboundMail
    not_spam: bool = False
    stage: str = "reading the stored message"
    parsed: ParsedMail | None = None
    raw: bytes = b""
    notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def mailboxes(self) -> list[Mailbox]:
        """Every support address (one query per message; a handful of rows)."""
        return list(Mailbox.objects.select_related("team"))

    def go(self) -> None:
        try:
            self._go()
        except Exception as error:
            error._deskpilot_stage = self.stage  # type: ignore[attr-defined]
            raise

    # The pipeline, step by step.
    def _go(self) -> None:
        inbound = self.inbound
        raw = self.raw = raw_store.read(inbound.raw_sha256)
        self.stage = "parsing"
        parsed = self.parsed = parse(raw)
        self.stage = "recording the headers"
        for name, value in _header_fields(parsed).items():
            setattr(inbound, name, value)
        inbound.error = ""

        self.stage = "checking for duplicates"
        if self._duplicate():
            return
        # Not for bounces and complaints: some reporting servers reuse the bounced message's id.
        noise = inbound.kind in (MailKind.BOUNCE, MailKind.COMPLAINT) or parsed.bounce is not None
        if (
            not noise
            and parsed.message_id
            and MailReference.objects.filter(message_id_header=parsed.message_id, outbound=True).exists()
        ):
            # Our own mail came back to us (a CC or BCC to a support address): never a ticket.
            self._finish(InboundStatus.IGNORED, error="Deskpilot's own message (Message-ID of a sent mail)")
            return

        self.stage = "finding the mailbox"
        if inbound.mailbox is None:
            inbound.mailbox = _mailbox_for(parsed, self.mailboxes)

        if parsed.spam and not self.not_spam:
            self._finish(InboundStatus.SPAM)
            return
        if inbound.kind == MailKind.BOUNCE or (parsed.bounce is not None and inbound.kind != MailKind.COMPLAINT):
            inbound.kind = MailKind.BOUNCE
            self.stage = "recording the bounce"
            self._bounce()
            return
        if inbound.kind == MailKind.COMPLAINT:
            self.stage = "recording the complaint"
            self._complaint()
            return
        if inbound.kind == MailKind.AUTO_REPLY:
            self.stage = "recording the automatic reply"
            self._auto_reply()
            return
        self.stage = "threading"
        self._conversation()

    def _finish(
        self, status: str, *, ticket: Ticket | None = None, message: Message | None = None, error: str = ""
    ) -> None:
        inbound = self.inbound
        inbound.status = status
        inbound.ticket = ticket
        inbound.message = message
        inbound.error = error
        inbound.attempts += 1
        inbound.processed_at = timezone.now()
        inbound.save()
        parsed = self.parsed
        if parsed and parsed.message_id and ticket is not None and status == InboundStatus.PROCESSED:
            MailReference.objects.bulk_create(
                [MailReference(message_id_header=parsed.message_id[:998], ticket=ticket, message=message)],
                ignore_conflicts=True,
            )

    def _duplicate(self) -> bool:
        inbound, parsed = self.inbound, self.parsed
        assert parsed is not None
        _serialise_on(f"mail:{parsed.message_id[:998]}" if parsed.message_id else f"mail-sha:{inbound.raw_sha256}")
        earlier = InboundMail.objects.filter(status__in=_DEALT_WITH).exclude(pk=inbound.pk)
        if parsed.message_id:
            earlier = earlier.filter(message_id_header=parsed.message_id[:998])
        else:
            earlier = earlier.filter(raw_sha256=inbound.raw_sha256, message_id_header="")
        first = earlier.order_by("received_at", "id").first()
        if first is None:
            return False
        inbound.duplicate_of = first
        self._finish(InboundStatus.DUPLICATE, ticket=first.ticket)
        return True

    # --- noise ---------------------------------------------------------------------------------

    def _bounce(self) -> None:
        parsed = self.parsed
        assert parsed is not None
        bounce = parsed.bounce
        recipients = [a.strip() for a in (bounce.recipients if bounce else []) if a and a.strip()]
        original_ids = [bounce.original_message_id] if bounce and bounce.original_message_id else []
        original_ids += [*parsed.in_reply_to, *reversed(parsed.references)]
        original_ids += _embedded_message_ids(parsed.attachments)
        ticket = _ticket_for_references(original_ids) or _ticket_for_recipients(recipients)
        status_code = (bounce.status if bounce else "") or ""
        diagnostic = " ".join(((bounce.diagnostic if bounce else "") or "").split())
        permanent = bool(bounce and bounce.permanent)
        who = ", ".join(recipients) or "an unknown recipient"
        verb = "Delivery failed" if permanent or not bounce else "Delivery delayed"
        note = f"{verb} to {who}: {status_code} {diagnostic}".strip().rstrip(":")
        if len(note) > 2000:
            note = note[:2000] + "…"
        if permanent:
            _mark_bouncing(recipients, f"{status_code} {diagnostic}".strip() or "delivery failed")
        message = _internal_note(ticket, note) if ticket is not None else None
        self._finish(InboundStatus.PROCESSED, ticket=ticket, message=message)

    def _complaint(self) -> None:
        parsed = self.parsed
        assert parsed is not None
        bounce = parsed.bounce
        recipients = [a for a in (bounce.recipients if bounce else []) if a]
        original_ids = [bounce.original_message_id] if bounce and bounce.original_message_id else []
        embedded_ids, embedded_to = _embedded_headers(parsed.attachments)
        original_ids += [*embedded_ids, *parsed.in_reply_to, *reversed(parsed.references)]
        recipients = recipients or embedded_to
        ticket = _ticket_for_references(original_ids) or _ticket_for_recipients(recipients)
        who = ", ".join(recipients) or "a recipient"
        _mark_bouncing(recipients, "spam complaint")
        message = (
            _internal_note(ticket, f"Spam complaint from {who}: our mail was reported as spam.") if ticket else None
        )
        self._finish(InboundStatus.PROCESSED, ticket=ticket, message=message)

    def _auto_reply(self) -> None:
        parsed = self.parsed
        assert parsed is not None
        target = _thread_target(parsed)
        message = None
        ticket = None
        if target is not None:
            ticket = target.ticket
            sender = parsed.sender.email if parsed.sender else "unknown sender"
            body = parsed.reply_text.strip() or parsed.text.strip()
            note = f"Automatic reply from {sender}:\n\n{body}" if body else f"Automatic reply from {sender}."
            message = _internal_note(ticket, note[: settings.MESSAGE_MAX_CHARS])
            if message is None:
                ticket = None
        self._finish(InboundStatus.PROCESSED, ticket=ticket, message=message)

    # --- a person's mail -----------------------------------------------------------------------

    def _conversation(self) -> None:
        inbound, parsed = self.inbound, self.parsed
        assert parsed is not None
        sender = parsed.sender
        sender_email = sender.email.strip() if sender else ""
        automatic = inbound.kind != MailKind.NORMAL or parsed.auto_submitted
        target = _thread_target(parsed)
        staff = _staff_user(sender_email)
        mailbox_addresses = {m.address.lower() for m in self.mailboxes}
        others = _other_addresses(parsed, exclude={sender_email.lower()} | mailbox_addresses)

        self.stage = "preparing the message"
        files, skipped = _attachments(parsed.attachments)

        if target is not None:
            ticket = target.ticket
            author = _participant(ticket, sender_email, staff)
            if author is not None and not (isinstance(author, User) and ticket.status == Status.CLOSED):
                body_text, body_html = _body(parsed, skipped, reply=True)
                self.stage = f"adding the reply to ticket {ticket.pk}"
                public = not (isinstance(author, User) and author.role not in AGENT_ROLES)
                if isinstance(author, User) and public and not _sender_verified(self.raw, sender_email):
                    # Anyone who can see the thread (the requester, a CC) could forge an agent's
                    # From: until the receiving server vouches for it, it stays internal.
                    public = False
                    body_text = UNVERIFIED_STAFF_NOTE + "\n\n" + body_text
                    body_html = ""
                message = actions.add_message(
                    ticket,
                    actor=author,
                    via=Via.EMAIL,
                    body_text=body_text,
                    body_html=body_html,
                    public=public,
                    attachments=[f for f, _ in files],
                )
                _inline_images(message, files)
                landed = message.ticket
                if isinstance(author, Customer):
                    _clear_bouncing(sender_email)
                    self.stage = "adding the CCs"
                    _add_ccs(landed, others)
                self._finish(InboundStatus.PROCESSED, ticket=landed, message=message)
                return

        self.stage = "creating the ticket"
        body_text, body_html = _body(parsed, skipped, reply=False)
        requester, known_sender = _requester(parsed)
        if known_sender:
            _clear_bouncing(sender_email)
        ccs = _customers(others)
        subject = tokens.strip_subject_tags(parsed.subject or "") or NO_SUBJECT
        if len(subject) > SUBJECT_MAX:
            subject = subject[: SUBJECT_MAX - 1] + "…"
        mailbox = inbound.mailbox
        ticket = actions.create_ticket(
            actor=requester,
            via=Via.EMAIL,
            channel=Channel.EMAIL,
            subject=subject,
            requester=requester,
            body_text=body_text,
            body_html=body_html,
            ccs=ccs,
            attachments=[f for f, _ in files],
            # A customer cannot choose a team; the mailbox's team is the system's routing.
            routed_team=mailbox.team if mailbox is not None else None,
        )
        first = ticket.messages.order_by("id").first()
        assert first is not None
        message = first
        _inline_images(message, files)
        if target is not None:
            self.stage = f"linking the new ticket to ticket {target.ticket.pk}"
            actions.link_tickets(ticket, target.ticket, actor=None, via=Via.EMAIL, kind=LinkKind.RELATED)
        self._finish(InboundStatus.PROCESSED, ticket=ticket, message=message)
        if known_sender and (mailbox is None or mailbox.send_acknowledgement):
            self.stage = "queueing the acknowledgement"
            _acknowledge(ticket, automatic=automatic)


# --- helpers -----------------------------------------------------------------------------------


def _base_address(address: str) -> str:
    """``support+t12-abc@example.com`` is ``support@example.com``; lower-case."""
    return _PLUS.sub("@", address.strip().lower())


def _requester(parsed: ParsedMail) -> tuple[Customer, bool]:
    """The customer a new ticket is from, and whether their address is real. Mail without a
    usable sender (no From, Sender, Return-Path or Reply-To) still becomes a ticket, from a
    placeholder customer at a reserved domain that no mail is ever sent to."""
    candidates = [parsed.sender] if parsed.sender else []
    candidates += list(parsed.reply_to)
    for address in candidates:
        try:
            return find_or_create_customer(address.email.strip(), address.name), True
        except DeskpilotError:
            continue
    return find_or_create_customer(UNKNOWN_SENDER, "Unknown sender"), False


def _mailbox_for(parsed: ParsedMail, mailboxes: Sequence[Mailbox]) -> Mailbox | None:
    wanted = [
        _base_address(a) for a in [*(x.email for x in parsed.to), *(x.email for x in parsed.cc), *parsed.delivered_to]
    ]
    if not wanted:
        return None
    by_address = {m.address.lower(): m for m in mailboxes}
    for address in wanted:
        if address in by_address:
            return by_address[address]
    return None


def _other_addresses(parsed: ParsedMail, *, exclude: set[str]) -> list[str]:
    """To/Cc addresses other than the sender and the support addresses (plus-addresses included),
    in order, once each."""
    found: dict[str, str] = {}
    for address in [*parsed.to, *parsed.cc]:
        email_ = address.email.strip()
        key = email_.lower()
        if not email_ or "@" not in email_ or key in exclude or _base_address(email_) in exclude:
            continue
        found.setdefault(key, email_)
    if not found:
        return []
    staff = {
        e.lower() for e in User.objects.filter(email__in=[*found, *found.values()]).values_list("email", flat=True)
    }
    return [e for k, e in found.items() if k not in staff]


def _customers(addresses: Sequence[str]) -> list[Customer]:
    customers: list[Customer] = []
    for address in addresses:
        try:
            customer = find_or_create_customer(address)
        except DeskpilotError:
            continue  # an address that is not one (a typo, "undisclosed-recipients:;"): not a CC
        if customer not in customers:
            customers.append(customer)
    return customers


def _add_ccs(ticket: Ticket, addresses: Sequence[str]) -> None:
    if not addresses or ticket.status == Status.CLOSED:
        return
    current = list(ticket.ccs.all())
    new = [c for c in _customers(addresses) if c.pk != ticket.requester_id and c not in current]
    if new:
        actions.update_ticket(ticket, actor=None, via=Via.EMAIL, changes={"ccs": current + new})


def _thread_target(parsed: ParsedMail) -> _Target | None:
    """Rules 1 and 2: the ticket the mail answers, by reference, else by signed token."""
    ticket = _ticket_for_references([*parsed.in_reply_to, *reversed(parsed.references)])
    if ticket is not None:
        return _Target(ticket, "reference")
    addresses = [
        *(a.email for a in parsed.to),
        *(a.email for a in parsed.cc),
        *parsed.delivered_to,
    ]
    for ticket_id in [*tokens.tickets_in_subject(parsed.subject or ""), *tokens.tickets_in_addresses(addresses)]:
        found = Ticket.objects.filter(pk=ticket_id).first()
        if found is not None:
            return _Target(_follow_merges(found), "token")
    return None


def _ticket_for_references(message_ids: Sequence[str]) -> Ticket | None:
    ids = [m.strip()[:998] for m in message_ids if m and m.strip()]
    if not ids:
        return None
    refs = list(MailReference.objects.filter(message_id_header__in=ids).select_related("ticket"))
    if not refs:
        return None
    # The first id in order of trust (In-Reply-To, then the newest References) that names a ticket.
    rank = {m: i for i, m in reversed(list(enumerate(ids)))}
    refs.sort(key=lambda r: (rank.get(r.message_id_header, len(ids)), -r.pk))
    return _follow_merges(refs[0].ticket)


def _follow_merges(ticket: Ticket) -> Ticket:
    """A merged ticket's mail goes to the ticket it was merged into."""
    seen = {ticket.pk}
    while ticket.status == Status.CLOSED:
        link = TicketLink.objects.filter(source=ticket, kind=LinkKind.MERGED_INTO).select_related("target").first()
        if link is None or link.target_id in seen:
            break
        ticket = link.target
        seen.add(ticket.pk)
    return ticket


def _ticket_for_recipients(recipients: Sequence[str]) -> Ticket | None:
    """The ticket of the latest mail Deskpilot sent to one of ``recipients``."""
    for address in recipients:
        wanted = address.strip().lower()
        if not wanted:
            continue
        for row in OutboundMail.objects.filter(to__icontains=wanted, ticket__isnull=False).order_by("-queued_at")[:20]:
            if wanted in {str(a).lower() for a in [*row.to, *row.cc]} and row.ticket is not None:
                return _follow_merges(row.ticket)
    return None


def _embedded_headers(attachments: Sequence[ParsedAttachment]) -> tuple[list[str], list[str]]:
    """Message-IDs and To addresses of messages enclosed in a report (the bounced or reported
    original, as message/rfc822 or text/rfc822-headers)."""
    ids: list[str] = []
    recipients: list[str] = []
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    for attachment in attachments:
        kind = attachment.content_type.lower()
        if kind not in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers") and not (
            attachment.filename.lower().endswith(".eml")
        ):
            continue
        headers = parser.parsebytes(attachment.content[:65536], headersonly=True)
        message_id = str(headers.get("Message-ID", "") or "").strip().strip("<>").strip()
        if message_id:
            ids.append(message_id)
        for _, address in email.utils.getaddresses([str(v) for v in headers.get_all("To", [])]):
            if "@" in address:
                recipients.append(address)
    return ids, recipients


def _embedded_message_ids(attachments: Sequence[ParsedAttachment]) -> list[str]:
    return _embedded_headers(attachments)[0]


def _serialise_on(key: str) -> None:
    """Two copies of one message processed at the same moment (two MTA pipes for two support
    addresses, overlapping IMAP polls) must not both pass the duplicate check. PostgreSQL: a
    transaction-level advisory lock on the message's key makes the second wait until the first
    commits, and its check then sees the first. SQLite's IMMEDIATE transactions are serial
    already."""
    if connection.vendor != "postgresql":
        return
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _mark_bouncing(addresses: Sequence[str], reason: str) -> None:
    now = timezone.now()
    for address in addresses:
        if address:
            emails_matching(address).update(bouncing_since=now, bounce_reason=reason[:500])


def _clear_bouncing(address: str) -> None:
    """The person wrote again: the address works (models.CustomerEmail)."""
    if address:
        emails_matching(address).filter(bouncing_since__isnull=False).update(bouncing_since=None, bounce_reason="")


def _internal_note(ticket: Ticket | None, text: str) -> Message | None:
    """An internal note by the system; None on a closed ticket (final: nothing is added)."""
    if ticket is None or ticket.status == Status.CLOSED:
        return None
    return actions.add_message(ticket, actor=None, via=Via.EMAIL, public=False, body_text=text)


UNVERIFIED_STAFF_NOTE = (
    "[Sent by email from a staff address that the receiving mail server did not verify (SPF, DKIM or "
    "DMARC): kept as an internal note. Reply from Deskpilot to answer the customer.]"
)


def _sender_verified(raw: bytes, address: str) -> bool:
    """Whether the mail server we trust vouched for the sender's domain: a trusted
    DESKPILOT_MAIL_TRUST_STAFF_FROM, or an Authentication-Results header added by one of the
    servers named in DESKPILOT_MAIL_TRUSTED_AUTHSERV_IDS (RFC 8601: only those, since anyone can
    write such a header into a message) with dmarc=pass, or dkim=pass / spf=pass for the domain."""
    if settings.MAIL_TRUST_STAFF_FROM:
        return True
    trusted = {a.lower() for a in settings.MAIL_TRUSTED_AUTHSERV_IDS}
    if not trusted or not raw:
        return False
    domain = address.rpartition("@")[2].lower()
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    for value in headers.get_all("Authentication-Results", []):
        text = " ".join(str(value).split()).lower()
        authserv, _, results = text.partition(";")
        if authserv.split()[0:1] == [] or authserv.split()[0] not in trusted:
            continue
        if "dmarc=pass" in results:
            return True
        for method in ("dkim=pass", "spf=pass"):
            for piece in results.split(";"):
                piece = piece.strip()
                if piece.startswith(method) and (f"header.d={domain}" in piece or f"@{domain}" in piece):
                    return True
    return False


def _staff_user(address: str) -> User | None:
    if not address:
        return None
    # Account emails are stored lower-case (accounts.UserManager): an exact match uses the
    # unique index, where iexact would scan every account, customers' included.
    return User.objects.filter(email=address.strip().lower(), is_active=True, role__in=list(STAFF_ROLES)).first()


def _participant(ticket: Ticket, address: str, staff: User | None) -> Customer | User | None:
    """Who the sender is on ``ticket`` (rule 3), or None for a stranger: the requester (any of
    their addresses), a CC'd customer, or staff (any agent; a collaborator assigned or following)."""
    if not address:
        return None
    if staff is not None:
        if staff.role in AGENT_ROLES:
            return staff
        if ticket.assignee_id == staff.pk or ticket.followers.filter(pk=staff.pk).exists():
            return staff
        return None
    owner = emails_matching(address).select_related("customer").order_by().first()
    if owner is None:
        return None
    customer = owner.customer
    if ticket.requester_id == customer.pk or ticket.ccs.filter(pk=customer.pk).exists():
        return customer
    return None


def _attachments(
    attachments: Sequence[ParsedAttachment],
) -> tuple[list[tuple[attachment_files.IncomingFile, ParsedAttachment]], list[str]]:
    """The files the product accepts, each with where it came from, and a line for each refused
    one (executables, over the size limit): never a reason to fail the whole mail."""
    accepted: list[tuple[attachment_files.IncomingFile, ParsedAttachment]] = []
    skipped: list[str] = []
    for part in attachments:
        incoming = attachment_files.IncomingFile(
            filename=part.filename or "attachment", content=part.content, content_type=part.content_type
        )
        try:
            attachment_files.validate([incoming])
        except DeskpilotError as error:
            reason = str(error).split(": ", 1)[-1]
            skipped.append(f"Attachment not accepted: {reason}")
            continue
        accepted.append((incoming, part))
    return accepted, skipped


def _body(parsed: ParsedMail, skipped: Sequence[str], *, reply: bool) -> tuple[str, str]:
    """What the conversation shows of the mail, and a line for each attachment left out.

    A reply to a ticket shows only its new content (quoted history and signature removed by the
    parser): the history is already in the conversation. A mail that starts a ticket shows all
    of it, since what it quotes or forwards is in no conversation yet (a forwarded message's
    "new content" is only the forward line). The full original is one click away either way."""
    full_text, full_html = (parsed.text or "").strip(), (parsed.html or "").strip()
    reply_text, reply_html = (parsed.reply_text or "").strip(), (parsed.reply_html or "").strip()
    if reply and (reply_text or reply_html):
        text, html = reply_text, reply_html
    else:
        text, html = full_text, full_html
    if html and not html_to_text(html).strip() and not re.search(r"<img\b", html, re.IGNORECASE):
        html = ""  # nothing visible in it: the text says more
    limit = settings.MESSAGE_MAX_CHARS
    note = "\n".join(skipped)
    if not text and not html:
        text = "(This email has no text; see its attachments.)" if parsed.attachments else "(This email is empty.)"
    reserve = len(note) + 200
    if len(text) + reserve > limit:
        text = text[: max(0, limit - reserve)] + "\n\n[… shortened here; the full email is one click away.]"
        html = ""
    if len(html) + reserve * 2 > limit * 2:
        html = ""
    if note:
        text = f"{text}\n\n{note}"
        if html:
            html = html + text_to_html(note)
    return text, html


def _inline_images(message: Message, files: Sequence[tuple[attachment_files.IncomingFile, ParsedAttachment]]) -> None:
    """Point the message's ``cid:`` images at the attachments they name."""
    if not files or "cid:" not in (message.body_html or ""):
        return
    stored = list(message.attachments.order_by("id"))
    if len(stored) != len(files):
        return
    mapping = {part.content_id: att.pk for (_, part), att in zip(files, stored, strict=True) if part.content_id}
    if mapping:
        actions.set_inline_images(message, mapping)


def _acknowledge(ticket: Ticket, *, automatic: bool) -> None:
    """Ask the outbound mail module to confirm the new request, when it exists (it is written
    alongside this one). Its failure never costs the ticket: the acknowledgement is optional."""
    try:
        outbound = importlib.import_module("deskpilot.mail.outbound")
    except ImportError:
        return
    queue = getattr(outbound, "queue_acknowledgement", None)
    if queue is None:
        return
    try:
        with transaction.atomic():
            queue(ticket, inbound_was_automatic=automatic)
    except Exception:
        logger.exception("acknowledgement for ticket %s could not be queued", ticket.pk)
