"""Outgoing mail: public agent replies emailed to the requester and CCs, properly threaded.

Nothing here sends: a reply (or a notification, ``mail.notifications``) is rendered into an
OutboundMail row, its Message-ID recorded as a MailReference (so the customer's answer threads
back, DOMAIN.md rule 1), and the job worker delivers it after the transaction commits
(``mail.tasks``). Rendering when queued keeps on record exactly what was sent.

Replies are found from ``tickets.signals.ticket_changed`` (connected in ``apps.py``): whatever
wrote the message (page, API, CLI, a rule), a public message by an agent that has no
OutboundMail yet is queued once. Messages that came in by email are never sent back out.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from deskpilot.accounts.models import AGENT_ROLES
from deskpilot.core.html import sanitize_html
from deskpilot.customers.models import Customer, CustomerEmail
from deskpilot.mail import tokens
from deskpilot.mail.models import DeliveryStatus, Mailbox, MailReference, OutboundKind, OutboundMail
from deskpilot.tickets.models import Message, Ticket, Via

logger = logging.getLogger(__name__)

# RFC 5322 3.6.4 lets References be trimmed; the first (the thread's root) and the newest are the
# ones clients thread by, so a long conversation keeps those and drops the middle.
REFERENCES_MAX = 20
# Replies are looked for among messages written this recently: the signal arrives right after the
# commit, and the sweep (mail.tasks) catches a lost one within minutes. Older messages (history
# imported with a past date, conversations from before email was set up) are never sent.
REPLY_WINDOW = datetime.timedelta(hours=1)
# Reply prefixes of common mail clients and languages (Re, Aw, Sv, Antw, Vs, Odp, Ref, 回复, 答复).
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|antw|vs|odp|ref|r|回复|答复)\s*(\[\d+\])?\s*[:\uff1a]\s*)+", re.IGNORECASE)


# --- where mail comes from -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    mailbox: Mailbox | None
    address: str  # bare address
    name: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"

    def from_header(self, name: str = "") -> str:
        return formataddr((name or self.name, self.address))


def mailbox_for(ticket: Ticket) -> Mailbox | None:
    """The team's active mailbox, else the first active mailbox (oldest configured), else None."""
    active = Mailbox.objects.filter(active=True)
    if ticket.team_id:
        own = active.filter(team_id=ticket.team_id).order_by("id").first()
        if own is not None:
            return own
    return active.order_by("id").first()


def sender_for(ticket: Ticket | None) -> Sender:
    """The ticket's team's mailbox (``mailbox_for``); for mail about no ticket, the first active
    mailbox; else DEFAULT_FROM_EMAIL."""
    mailbox = mailbox_for(ticket) if ticket is not None else Mailbox.objects.filter(active=True).order_by("id").first()
    if mailbox is not None:
        return Sender(mailbox=mailbox, address=mailbox.address, name=mailbox.name)
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return Sender(mailbox=None, address=address or "support@localhost", name=name)


def new_message_id(domain: str) -> str:
    """A fresh Message-ID, without angle brackets (as ``message_id_header`` stores it)."""
    return f"{uuid.uuid4().hex}@{domain}"


# --- threading -----------------------------------------------------------------------------------


def thread_headers(ticket_id: int) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail about the ticket: the newest Message-ID of the
    conversation, and the chain oldest first, trimmed to REFERENCES_MAX (root kept)."""
    chain = list(
        MailReference.objects.filter(ticket_id=ticket_id)
        .order_by("created_at", "id")
        .values_list("message_id_header", flat=True)
    )
    chain = list(dict.fromkeys(chain))  # one Message-ID may be recorded once per ticket only, but be safe
    if not chain:
        return "", []
    if len(chain) > REFERENCES_MAX:
        chain = [chain[0], *chain[-(REFERENCES_MAX - 1) :]]
    return chain[-1], chain


def base_subject(subject: str) -> str:
    """The ticket's subject without ticket tags and reply prefixes."""
    return _REPLY_PREFIX.sub("", tokens.strip_subject_tags(subject)).strip() or "(no subject)"


def tagged_subject(subject: str, ticket_id: int, *, reply: bool = False) -> str:
    """``Re: <subject> [#N-sig]``: one prefix, one tag, however often the subject went back and
    forth. Line breaks are removed (a subject is one header line)."""
    text = " ".join(base_subject(subject).split())
    return f"{'Re: ' if reply else ''}{text} {tokens.subject_tag(ticket_id)}"


# --- recipients ----------------------------------------------------------------------------------


@dataclass
class Recipients:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def skip(self, address: str, reason: str) -> None:
        self.skipped.append({"address": address, "reason": reason})


def _own_addresses() -> set[str]:
    """Deskpilot's own mailboxes: never a recipient (a reply to itself would come back in)."""
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}


def customer_recipients(ticket: Ticket | None, customers: Sequence[Customer], *, cc_from: int = 1) -> Recipients:
    """Addresses of ``customers`` (the first ``cc_from`` go to To, the rest to Cc), leaving out
    bouncing addresses, our own mailboxes and people without an address, each with its reason."""
    result = Recipients()
    emails: dict[int, list[CustomerEmail]] = {}
    for entry in CustomerEmail.objects.filter(customer__in=[c.pk for c in customers]).order_by("-is_primary", "id"):
        emails.setdefault(entry.customer_id, []).append(entry)
    own = _own_addresses()
    seen: set[str] = set()
    for index, customer in enumerate(customers):
        entries = emails.get(customer.pk, [])
        if not entries:
            result.skip(customer.name or f"customer {customer.pk}", "no email address")
            continue
        entry = entries[0]
        address = entry.address
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        if entry.bouncing_since is not None:
            since = timezone.localtime(entry.bouncing_since).strftime("%Y-%m-%d %H:%M")
            reason = f"bouncing since {since}" + (f": {entry.bounce_reason}" if entry.bounce_reason else "")
            result.skip(address, reason)
        elif address.lower() in own:
            result.skip(address, "a support mailbox of this help desk")
        elif index < cc_from:
            result.to.append(address)
        else:
            result.cc.append(address)
    if not result.to and result.cc:
        result.to.append(result.cc.pop(0))
    return result


# --- queueing ------------------------------------------------------------------------------------


def create_outbound(
    *,
    ticket: Ticket | None,
    kind: str,
    sender: Sender,
    recipients: Recipients,
    subject: str,
    body_text: str,
    body_html: str,
    message: Message | None = None,
    from_name: str = "",
    auto_submitted: str = "",
    skip_reason: str = "",
    list_unsubscribe: str = "",
) -> OutboundMail:
    """Write the OutboundMail and its MailReference; deliver after commit. With nobody to send to
    (or ``skip_reason``), the row is kept as skipped, with the reasons, and nothing is sent.
    Raises IntegrityError when the same reply or acknowledgement was queued meanwhile. Mail about
    no ticket (a relationship survey) has no thread and is answered to the sender's address.
    ``list_unsubscribe``: the URL that unsubscribes the recipient with one POST (RFC 8058)."""
    in_reply_to, references = thread_headers(ticket.pk) if ticket is not None else ("", [])
    message_id = new_message_id(sender.domain)
    skipped = list(recipients.skipped)
    if skip_reason:
        skipped += [{"address": a, "reason": skip_reason} for a in [*recipients.to, *recipients.cc]]
    sending = not skip_reason and bool(recipients.to)
    now = timezone.now()
    with transaction.atomic():
        mail = OutboundMail.objects.create(
            ticket=ticket,
            message=message,
            mailbox=sender.mailbox,
            kind=kind,
            from_address=sender.from_header(from_name),
            to=recipients.to if sending else [],
            cc=recipients.cc if sending else [],
            skipped=skipped,
            reply_to=tokens.reply_address(sender.address, ticket.pk) if ticket is not None else sender.address,
            subject=subject,
            message_id_header=message_id,
            in_reply_to=in_reply_to,
            references=" ".join(references),
            auto_submitted=auto_submitted,
            list_unsubscribe=list_unsubscribe,
            body_text=body_text,
            body_html=body_html,
            status=DeliveryStatus.QUEUED if sending else DeliveryStatus.SKIPPED,
            queued_at=now,
            next_attempt_at=now if sending else None,
        )
        if sending and ticket is not None:
            MailReference.objects.get_or_create(
                message_id_header=message_id, ticket=ticket, defaults={"message": message, "outbound": True}
            )
        if sending:
            mail_id = mail.pk
            transaction.on_commit(lambda: enqueue(mail_id))
    if not sending:
        logger.info("mail %s for ticket %s not sent: %s", kind, ticket.pk if ticket else None, skipped)
    return mail


def enqueue(mail_id: int) -> None:
    from deskpilot.mail.tasks import send_outbound

    try:
        send_outbound(mail_id)
    except Exception:
        # The queue being down must not fail the request that replied: the sweep
        # (mail.sweep_outbound) finds the mail by its next_attempt_at.
        logger.exception("could not enqueue outbound mail %s; the sweep will send it", mail_id)


def _previous_public(message: Message) -> Message | None:
    return (
        Message.objects.filter(ticket_id=message.ticket_id, public=True)
        .exclude(pk=message.pk)
        .filter(created_at__lte=message.created_at)
        .select_related("author_user", "author_customer")
        .order_by("-created_at", "-id")
        .first()
    )


def render_reply(message: Message, ticket: Ticket) -> tuple[str, str]:
    """(text, HTML) of a reply: the message, and below it the conversation's previous public
    message quoted (never an internal note)."""
    previous = _previous_public(message)
    context: dict[str, Any] = {
        "ticket": ticket,
        "message": message,
        "body_html": sanitize_html(message.body_html) if message.body_html else "",
        "previous": previous,
        "previous_html": sanitize_html(previous.body_html) if previous and previous.body_html else "",
        "previous_quoted": "\n".join(f"> {line}".rstrip() for line in previous.body_text.splitlines())
        if previous
        else "",
        "tag": tokens.subject_tag(ticket.pk),
    }
    text = render_to_string("mail/email_reply.txt", context).strip() + "\n"
    html = render_to_string("mail/email_reply.html", context)
    return text, html


def is_agent_reply(message: Message) -> bool:
    return bool(
        message.public
        and message.via != Via.EMAIL
        and message.author_user_id
        and message.author_user is not None
        and message.author_user.role in AGENT_ROLES
    )


def queue_reply(message: Message, *, skip_reason: str = "") -> OutboundMail | None:
    """Queue the email of one public agent reply (None when it is not one, or already queued).
    With ``skip_reason`` the mail is recorded as not sent, for that reason, and never sent."""
    if not is_agent_reply(message):
        return None
    with transaction.atomic():
        # The ticket's row lock serialises two receivers of the same change (on PostgreSQL;
        # SQLite's write transactions are serial anyway).
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("requester").get(pk=message.ticket_id)
        if OutboundMail.objects.filter(message=message, kind=OutboundKind.REPLY).exists():
            return None
        customers = [ticket.requester, *ticket.ccs.exclude(pk=ticket.requester_id).order_by("id")]
        recipients = customer_recipients(ticket, customers)
        sender = sender_for(ticket)
        first = not Message.objects.filter(ticket=ticket, created_at__lt=message.created_at).exists()
        text, html = render_reply(message, ticket)
        author = message.author_user
        assert author is not None
        try:
            with transaction.atomic():
                return create_outbound(
                    ticket=ticket,
                    kind=OutboundKind.REPLY,
                    sender=sender,
                    recipients=recipients,
                    subject=tagged_subject(ticket.subject, ticket.pk, reply=not first),
                    body_text=text,
                    body_html=html,
                    message=message,
                    from_name=f"{author.name} ({sender.name})" if sender.name else author.name,
                    skip_reason=skip_reason,
                )
        except IntegrityError:
            return None  # queued by a concurrent receiver


def pending_replies(ticket_id: int | None = None, *, since: datetime.datetime | None = None) -> list[Message]:
    """Public agent messages written since ``since`` (default: REPLY_WINDOW ago) that have no
    email yet, oldest first."""
    since = since or timezone.now() - REPLY_WINDOW
    qs = Message.objects.filter(
        public=True, author_user__role__in=AGENT_ROLES, created_at__gte=since, author_user__isnull=False
    ).exclude(via=Via.EMAIL)
    if ticket_id is not None:
        qs = qs.filter(ticket_id=ticket_id)
    qs = qs.exclude(outbound_mail__kind=OutboundKind.REPLY)
    return list(qs.select_related("author_user").order_by("created_at", "id"))


def record_replies_as_unsent(reason: str) -> int:
    """Record every reply the sweep would email now (public agent replies of the last
    REPLY_WINDOW without an email) as not sent, for ``reason``. For rows written in bulk, such as
    the demo generator's history: they were never meant to reach anyone's mailbox."""
    recorded = 0
    for message in pending_replies():
        if queue_reply(message, skip_reason=reason) is not None:
            recorded += 1
    return recorded


def queue_pending_replies(ticket_id: int | None = None) -> list[OutboundMail]:
    queued = []
    for message in pending_replies(ticket_id):
        mail = queue_reply(message)
        if mail is not None:
            queued.append(mail)
    return queued


# --- the signal ----------------------------------------------------------------------------------


def on_ticket_changed(sender: Any, *, ticket_id: int, fields: Sequence[str], **kwargs: Any) -> None:
    """Receiver of ``tickets.signals.ticket_changed`` (after commit): hands the change to the job
    worker, so composing mail (recipients, threading headers, templates: a score of queries)
    never slows the request that changed the ticket. Enqueueing failures are logged and never
    reach the person who replied: their reply is saved, and the sweep emails it later."""
    if not ({"message", "created", "assignee"} & set(fields)):
        return
    from deskpilot.mail.tasks import mail_for_ticket_change

    try:
        mail_for_ticket_change(ticket_id, list(fields))
    except Exception:
        logger.exception(
            "could not enqueue the mail for a change of ticket %s; the sweep will catch replies", ticket_id
        )


def handle_ticket_change(ticket_id: int, fields: Sequence[str]) -> None:
    """Queue the mail a ticket change calls for: replies, the acknowledgement, the assignment
    notice. Each step is independent; a failing one is logged and does not stop the others."""
    from deskpilot.mail import notifications

    steps: list[tuple[str, Callable[[], object]]] = []
    if "message" in fields or "created" in fields:
        steps.append(("reply", lambda: queue_pending_replies(ticket_id)))
    if "created" in fields:
        steps.append(("acknowledgement", lambda: notifications.acknowledge_new_ticket(ticket_id)))
    if "created" in fields or "assignee" in fields:
        steps.append(("assignment", lambda: notifications.notify_assignment(ticket_id)))
    for name, step in steps:
        try:
            step()
        except Exception:
            logger.exception("outbound %s mail for ticket %s could not be queued", name, ticket_id)
