"""Tickets, their messages and attachments, the append-only event history, tags, links and
admin-defined custom fields.

Models hold data and invariants only. Every change goes through ``tickets.actions``, which also
records the TicketEvent that metrics, SLA clocks, audit and webhooks are computed from.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from deskpilot.accounts.models import Team
from deskpilot.customers.models import Customer, Organization


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    ON_HOLD = "on_hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


# Statuses a customer's reply moves back to open (DOMAIN.md).
REOPENED_BY_CUSTOMER = frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED})
# Statuses in which the ticket still needs work from the team.
UNSOLVED = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketType(models.TextChoices):
    QUESTION = "question", "Question"
    INCIDENT = "incident", "Incident"
    PROBLEM = "problem", "Problem"
    TASK = "task", "Task"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEB = "web", "Web form"
    PORTAL = "portal", "Customer portal"
    API = "api", "API"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"


class Via(models.TextChoices):
    """Through what a change arrived."""

    WEB = "web", "Web"
    API = "api", "API"
    EMAIL = "email", "Email"
    RULE = "rule", "Rule"
    SYSTEM = "system", "System"


class Tag(models.Model):
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A customer's request. Its number is its primary key: unique, increasing, and allocated by
    the database, so any number of processes can create tickets without coordination."""

    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    type = models.CharField(max_length=10, choices=TicketType.choices, default=TicketType.QUESTION)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    requester = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    tags: models.ManyToManyField[Tag, TicketTag] = models.ManyToManyField(
        Tag, through="TicketTag", related_name="tickets", blank=True
    )
    ccs = models.ManyToManyField(Customer, related_name="cc_tickets", blank=True)
    followers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="followed_tickets", blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Incremented on every change; the API's ETag, for optimistic concurrency.
    version = models.PositiveIntegerField(default=1)
    # Kept by policies.sla on every event: the SLA policy in force, the earliest due of a running
    # target (a breached one's breach: lists sort by it, most overdue first) and the next instant
    # something must happen (a warning or a breach), which the breach sweep looks for.
    sla_policy = models.ForeignKey(
        "policies.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    sla_next_breach_at = models.DateTimeField(null=True, blank=True)
    sla_wake_at = models.DateTimeField(null=True, blank=True)
    # The escalation level (policies.models.EscalationLevel); empty: tier 1, not escalated.
    escalation = models.CharField(
        max_length=10, null=True, blank=True
    )  # nullable: added to large tables without a rewrite

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Queue pages and the API filter by these and page by id, newest first.
            models.Index(fields=["status", "id"], name="ticket_status_id"),
            models.Index(fields=["team", "status", "id"], name="ticket_team_status_id"),
            models.Index(fields=["assignee", "status", "id"], name="ticket_assignee_status_id"),
            models.Index(fields=["requester", "id"], name="ticket_requester_id"),
            models.Index(fields=["organization", "id"], name="ticket_org_id"),
            models.Index(fields=["priority", "id"], name="ticket_priority_id"),
            models.Index(fields=["created_at"], name="ticket_created_at"),
            models.Index(fields=["updated_at", "id"], name="ticket_updated_at_id"),
            # The auto-close job looks for solved tickets by solve time.
            models.Index(fields=["status", "solved_at"], name="ticket_status_solved_at"),
            # The breach sweep and the "next breach" sort; only tickets with a running clock.
            models.Index(fields=["sla_wake_at"], name="ticket_sla_wake", condition=models.Q(sla_wake_at__isnull=False)),
            models.Index(
                fields=["sla_next_breach_at", "id"],
                name="ticket_sla_next_breach",
                condition=models.Q(sla_next_breach_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> int:
        return int(self.pk)

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class TicketTag(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "tag"], name="unique_ticket_tag")]
        indexes = [models.Index(fields=["tag", "ticket"], name="tickettag_tag_ticket")]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.tag_id}"


class Message(models.Model):
    """A public reply or an internal note. Exactly one of ``author_user`` and ``author_customer``
    is set, except for system messages, which have neither."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    public = models.BooleanField(default=True)
    body_text = models.TextField()
    # Sanitised when stored (core.html.sanitize_html): safe to render as is.
    body_html = models.TextField(blank=True)
    via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEB)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="message_ticket_created")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(author_user__isnull=False, author_customer__isnull=False),
                name="message_single_author",
            )
        ]

    def __str__(self) -> str:
        return f"message {self.pk} on #{self.ticket_id}"

    @property
    def author_name(self) -> str:
        if self.author_user_id and self.author_user:
            return self.author_user.name
        if self.author_customer_id and self.author_customer:
            return self.author_customer.name
        return "Deskpilot"


class Attachment(models.Model):
    """A file on a message. The bytes live under DATA_DIR/attachments, named by their SHA-256,
    so the same file sent twice is stored once."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """One change to a ticket: what changed, from what, to what, by whom, when and through what.

    Append-only. It is the single source for history, metrics and SLA clocks. ``field`` is a
    ticket field name (status, priority, type, team, assignee, requester, organization, subject,
    tags, ccs, followers, custom_fields.<key>) or an occurrence: created, message, link, merge,
    split. Values are JSON: ids for related objects, lists for sets.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    field = models.CharField(max_length=80)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices)
    # What caused it when not a person's own act: "trigger:12", "automation:3", "sla", "macro:7"
    # (tickets.actions.caused_by). Nullable so the column is added to a large table without a rewrite.
    cause = models.CharField(max_length=60, null=True, blank=True)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at", "id"], name="event_ticket_created"),
            models.Index(fields=["created_at"], name="event_created_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.field}: {self.old!r} → {self.new!r}"


class LinkKind(models.TextChoices):
    RELATED = "related", "Related"
    FOLLOW_UP = "follow_up", "Follow-up of"
    MERGED_INTO = "merged_into", "Merged into"
    SPLIT_FROM = "split_from", "Split from"
    DUPLICATE_OF = "duplicate_of", "Duplicate of"


class TicketLink(models.Model):
    """A directed link: ``source`` is a follow-up of / merged into / split from ``target``."""

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="unique_ticket_link"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="ticket_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"#{self.source_id} {self.kind} #{self.target_id}"


class FieldKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    DROPDOWN = "dropdown", "Dropdown"
    CHECKBOX = "checkbox", "Checkbox"


class CustomField(models.Model):
    """An admin-defined ticket field. Values live in ``Ticket.custom_fields`` under ``key`` and
    are validated by ``tickets.custom_fields``."""

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=FieldKind.choices)
    # For dropdowns: the allowed values.
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label


class SavedView(models.Model):
    """A queue someone saved from the inbox: the inbox's URL filters (``filters``, validated by
    ``tickets.saved_views`` with the same code as the URL's) and a sort order. Shared views
    (managers and admins may share) appear for all staff; the rest only for their owner."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=80)
    # The inbox's query-string keys: view (the built-in queue it narrows), status, priority,
    # team, assignee, tag; lists for the repeatable ones.
    filters = models.JSONField(default=dict, blank=True)
    sort = models.CharField(max_length=20, default="-updated_at")
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_view_name")]
        indexes = [models.Index(fields=["shared"], name="saved_view_shared")]

    def __str__(self) -> str:
        return self.name
