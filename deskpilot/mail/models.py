"""The email channel's records: mailboxes, every message received (raw first), every message sent,
and the Message-IDs that thread replies to tickets.

The Message-ID header is stored as ``message_id_header`` (``message`` is the ticket message a mail
became). Inbound and outbound share one table of Message-IDs (``MailReference``) because threading asks one
question: "which ticket does this Message-ID belong to?", whether Deskpilot sent it or received it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from deskpilot.accounts.models import Team
from deskpilot.tickets.models import Message, Ticket


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "TLS from the start (port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"
    NONE = "none", "None (loopback or trusted network only)"


class AfterImport(models.TextChoices):
    MARK_SEEN = "mark_seen", "Mark as read"
    DELETE = "delete", "Delete"
    MOVE = "move", "Move to a folder"


class Mailbox(models.Model):
    """A support address. Mail to it becomes tickets of ``team``; replies go out from it. IMAP
    settings are optional: without them, mail arrives by pipe (``deskpilot mail ingest``) or by
    the local SMTP listener."""

    address = models.EmailField(unique=True)
    name = models.CharField(max_length=100, blank=True, help_text="Shown as the sender name of replies.")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes")
    active = models.BooleanField(default=True)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL)
    imap_user = models.CharField(max_length=255, blank=True)
    # Needed in clear to log in to the IMAP server; never logged, never shown back in a form.
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    after_import = models.CharField(max_length=10, choices=AfterImport.choices, default=AfterImport.MARK_SEEN)
    move_to_folder = models.CharField(max_length=255, blank=True)
    send_acknowledgement = models.BooleanField(
        default=True, help_text="Confirm new requests to the customer by email (never to automatic mail)."
    )
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["address"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return self.address

    @property
    def polls_imap(self) -> bool:
        return bool(self.active and self.imap_host and self.imap_user)


class InboundSource(models.TextChoices):
    IMAP = "imap", "IMAP"
    PIPE = "pipe", "Pipe (deskpilot mail ingest)"
    IMPORT = "import", "Import (deskpilot mail import)"
    SMTP = "smtp", "SMTP listener"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    DUPLICATE = "duplicate", "Duplicate of an earlier message"
    SPAM = "spam", "Spam"
    IGNORED = "ignored", "Ignored"


class MailKind(models.TextChoices):
    """What a message is, as far as the help desk is concerned."""

    NORMAL = "normal", "Written by a person"
    AUTO_REPLY = "auto_reply", "Automatic reply"
    BOUNCE = "bounce", "Bounce (delivery failure)"
    COMPLAINT = "complaint", "Spam complaint (feedback report)"
    BULK = "bulk", "Bulk or list mail"


class InboundMail(models.Model):
    """One received message. The raw bytes are stored (``mail/raw.py``, by SHA-256) and this row
    written before parsing, so nothing received is ever lost: a message that fails to parse stays
    here as ``failed`` with the error, visible to admins, and can be retried."""

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    raw_sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField()
    # Filled by parsing (empty until then, and when the message has none).
    message_id_header = models.CharField(max_length=998, blank=True, db_index=True)
    sender = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    kind = models.CharField(max_length=12, choices=MailKind.choices, default=MailKind.NORMAL)
    status = models.CharField(max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mail"
    )
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="mail_inbound_status")]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Agent reply"
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement of a new request"
    ASSIGNMENT = "assignment", "Assignment notice to an agent"
    STAFF_NOTICE = "staff_notice", "Notice to staff (SLA, escalation, rule)"
    SURVEY = "survey", "Survey invitation"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # Nobody to send it to (every recipient bouncing or without an address), or an automatic
    # mail held back (acknowledgement rate limit, acknowledgements off): kept with the reason.
    SKIPPED = "skipped", "Not sent"


class OutboundMail(models.Model):
    """One message Deskpilot sends, rendered when queued (so what was sent is on record) and
    delivered by the job worker with retries. ``status`` and ``last_error`` (the server's answer)
    make every failure visible on the ticket."""

    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_mail")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound_mail")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound")
    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    from_address = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    # Recipients left out, with why: [{"address": ..., "reason": ...}] (bouncing, rate limit).
    skipped = models.JSONField(default=list, blank=True)
    reply_to = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998)
    message_id_header = models.CharField(max_length=998, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    # "auto-replied" or "auto-generated" (RFC 3834) for automatic mail; empty for a person's reply.
    auto_submitted = models.CharField(max_length=20, blank=True)
    # Where the recipient unsubscribes in one click (List-Unsubscribe, RFC 2369 and 8058): survey
    # mail. Mail providers show an unsubscribe button for it and expect it on bulk mail.
    list_unsubscribe = models.URLField(max_length=2000, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            # A reply is emailed once, and a ticket acknowledged once, however often the
            # signal that queues them arrives.
            models.UniqueConstraint(fields=["message"], condition=models.Q(kind="reply"), name="outbound_reply_once"),
            models.UniqueConstraint(
                fields=["ticket"], condition=models.Q(kind="acknowledgement"), name="outbound_acknowledgement_once"
            ),
        ]
        indexes = [models.Index(fields=["kind", "queued_at"], name="outbound_kind_queued")]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}: {self.subject}"


class MailReference(models.Model):
    """A Message-ID Deskpilot sent or received, and the ticket (and message) it belongs to: the
    first and most trusted threading rule (DOMAIN.md) looks replies' In-Reply-To and References
    up here."""

    message_id_header = models.CharField(max_length=998, db_index=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="mail_references")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outbound = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message_id_header", "ticket"], name="mail_reference_once")]

    def __str__(self) -> str:
        return f"{self.message_id_header} → #{self.ticket_id}"


class NotificationTemplate(models.Model):
    """The text of an automatic email, editable per team (a team's template wins over the default
    one, whose team is empty). Django template syntax with ``ticket``, ``customer``, ``agent``,
    ``message`` and ``portal_url`` in the context; rendered with autoescaping for HTML."""

    kind = models.CharField(max_length=20, choices=OutboundKind.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "team"], name="notification_template_once")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.team or 'default'})"
