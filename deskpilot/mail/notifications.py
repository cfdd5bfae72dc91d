"""Automatic mail: the acknowledgement of a new request (to the customer) and the assignment
notice (to the agent), from templates an admin edits per team.

Template lookup: the team's NotificationTemplate, else the default one (team empty), else the
built-in text below. Templates use Django template syntax; the HTML part is rendered with
autoescaping, so a customer's name or subject can never inject markup. A template that does not
compile or render is logged and the built-in text is used: a broken template never stops mail.

Automatic mail carries ``Auto-Submitted`` (RFC 3834) and ``X-Auto-Response-Suppress: All`` so
other systems' auto-responders stay quiet, and it is never sent in answer to automatic mail, to
bouncing addresses, or more than DESKPILOT_ACK_MAX_PER_HOUR times an hour to one address.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import linebreaks

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Team, User
from deskpilot.core.html import html_to_text, sanitize_html
from deskpilot.core.models import Notification
from deskpilot.mail import outbound
from deskpilot.mail.models import DeliveryStatus, NotificationTemplate, OutboundKind, OutboundMail
from deskpilot.tickets.models import Message, Ticket, TicketEvent, Via

logger = logging.getLogger(__name__)

AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


BUILT_IN: dict[str, Text] = {
    OutboundKind.ACKNOWLEDGEMENT: Text(
        subject="We received your request: {{ ticket.subject }}",
        body=(
            "Hello {{ customer.name|default:'there' }},\n\n"
            "thank you for writing to us. We have received your request and will answer as soon "
            "as we can.\n\n"
            "Your request number is {{ ticket.pk }}. To add anything, reply to this email."
            "{% if portal_url %}\nYou can also follow your request at {{ portal_url }}{% endif %}\n"
        ),
    ),
    OutboundKind.ASSIGNMENT: Text(
        subject="Ticket #{{ ticket.pk }} assigned to you: {{ ticket.subject }}",
        body=(
            "Hello {{ agent.name }},\n\n"
            "{% if assigned_by %}{{ assigned_by.name }} assigned{% else %}Deskpilot assigned{% endif %} "
            "ticket #{{ ticket.pk }} to you.\n\n"
            "Subject: {{ ticket.subject }}\n"
            "Requester: {{ customer.name }}\n"
            "Priority: {{ ticket.get_priority_display }}\n\n"
            "Open it at {{ ticket_url }}\n"
        ),
    ),
}

_HAS_TAGS = re.compile(r"<[a-zA-Z][^>]*>")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def template_for(kind: str, team: Team | None) -> Text:
    """The team's template, else the default one, else the built-in text."""
    candidates = NotificationTemplate.objects.filter(kind=kind, team__isnull=True)
    if team is not None:
        candidates = NotificationTemplate.objects.filter(kind=kind).filter(Q(team=team) | Q(team__isnull=True))
    row = min(candidates, key=lambda r: r.team_id is None, default=None)  # the team's first
    if row is not None:
        return Text(subject=row.subject, body=row.body)
    return BUILT_IN[kind]


def _render_one(text: Text, context: dict[str, Any]) -> Rendered:
    subject = Template(text.subject).render(Context(context, autoescape=False))
    body_template = Template(text.body)
    escaped = body_template.render(Context(context, autoescape=True))
    if _HAS_TAGS.search(text.body):
        html = sanitize_html(escaped)
        plain = html_to_text(html)
    else:
        html = linebreaks(escaped.strip())
        plain = body_template.render(Context(context, autoescape=False))
    return Rendered(subject=" ".join(subject.split()), text=plain.strip() + "\n", html=html)


def render(kind: str, team: Team | None, context: dict[str, Any]) -> Rendered:
    """Render the notification; a broken template falls back to the built-in text (logged)."""
    text = template_for(kind, team)
    try:
        rendered = _render_one(text, context)
        if not rendered.subject or not rendered.text.strip():
            raise ValueError("the template renders an empty subject or body")
    except Exception:
        if text is BUILT_IN[kind]:
            raise
        logger.exception("notification template %s for team %s is broken; using the built-in text", kind, team)
        rendered = _render_one(BUILT_IN[kind], context)
    layout = render_to_string("mail/email_notification.html", {"body_html": rendered.html, "subject": rendered.subject})
    return Rendered(subject=rendered.subject, text=rendered.text, html=layout)


def _person(user: Any) -> dict[str, str] | None:
    return None if user is None else {"name": user.name, "email": user.email}


def _first_public(ticket: Ticket) -> Message | None:
    return Message.objects.filter(ticket=ticket, public=True).order_by("created_at", "id").first()


def _context(
    ticket: Ticket, *, agent: Any = None, assigned_by: Any = None, first: Message | None = None
) -> dict[str, Any]:
    """What a notification template may use: plain values, never model objects. Managers edit
    templates, and a template given a model can walk its relations to anything (a follower's
    password hash, a mailbox's IMAP password)."""
    base = settings.BASE_URL.rstrip("/")
    first = first or _first_public(ticket)
    requester = ticket.requester
    return {
        "ticket": {
            "pk": ticket.pk,
            "id": ticket.pk,
            "number": ticket.pk,
            "subject": ticket.subject,
            "status": ticket.status,
            "get_status_display": ticket.get_status_display(),
            "priority": ticket.priority,
            "get_priority_display": ticket.get_priority_display(),
            "type": ticket.type,
            "channel": ticket.channel,
            "created_at": ticket.created_at,
        },
        "customer": {"name": requester.name, "email": requester.primary_email},
        "message": None if first is None else {"body_text": first.body_text, "created_at": first.created_at},
        "agent": _person(agent),
        "assigned_by": _person(assigned_by),
        "portal_url": base + reverse("portal:ticket", args=[ticket.pk]),
        "ticket_url": base + reverse("tickets:ticket", args=[ticket.pk]),
    }


# --- acknowledgement -----------------------------------------------------------------------------


def _acknowledgements_last_hour(address: str, now: datetime.datetime) -> int:
    # JSON "contains" is not portable (SQLite lacks it): match the list's text, then check exactly.
    candidates = (
        OutboundMail.objects.filter(kind=OutboundKind.ACKNOWLEDGEMENT, queued_at__gt=now - datetime.timedelta(hours=1))
        .exclude(status=DeliveryStatus.SKIPPED)
        .annotate(to_text=Cast("to", TextField()))
        .filter(to_text__icontains=address)
        .values_list("to", flat=True)
    )
    return sum(1 for to in candidates if address.lower() in {a.lower() for a in to})


def queue_acknowledgement(ticket: Ticket, *, inbound_was_automatic: bool) -> OutboundMail | None:
    """Confirm a new request to its requester. Called by mail intake for tickets created by email
    (``inbound_was_automatic``: the mail was an auto-reply, bounce or list mail) and by the
    ticket_changed receiver for tickets customers created on the portal, web form or API.

    Returns the OutboundMail (queued, or skipped with the reason on record), or None when the
    ticket was acknowledged already or acknowledgements are off."""
    ticket = Ticket.objects.select_related("requester", "team").get(pk=ticket.pk)
    sender = outbound.sender_for(ticket)
    enabled = sender.mailbox.send_acknowledgement if sender.mailbox else settings.MAIL_SEND_ACKNOWLEDGEMENT
    if not enabled:
        return None
    if OutboundMail.objects.filter(ticket=ticket, kind=OutboundKind.ACKNOWLEDGEMENT).exists():
        return None
    recipients = outbound.customer_recipients(ticket, [ticket.requester])
    skip_reason = ""
    now = timezone.now()
    if inbound_was_automatic:
        skip_reason = "the request was automatic mail (never answered automatically)"
    elif recipients.to:
        limit = settings.ACK_MAX_PER_HOUR
        if _acknowledgements_last_hour(recipients.to[0], now) >= limit:
            skip_reason = f"rate limit: {limit} acknowledgements to this address in the last hour"
    first = _first_public(ticket)
    context = _context(ticket, first=first)
    rendered = render(OutboundKind.ACKNOWLEDGEMENT, ticket.team, context)
    try:
        with transaction.atomic():
            return outbound.create_outbound(
                ticket=ticket,
                kind=OutboundKind.ACKNOWLEDGEMENT,
                sender=sender,
                recipients=recipients,
                subject=outbound.tagged_subject(rendered.subject, ticket.pk),
                body_text=rendered.text,
                body_html=rendered.html,
                message=first,
                auto_submitted=AUTO_REPLIED,
                skip_reason=skip_reason,
            )
    except IntegrityError:
        return None  # acknowledged meanwhile by a concurrent call


def acknowledge_new_ticket(ticket_id: int) -> OutboundMail | None:
    """For the ticket_changed receiver: acknowledge a ticket a customer created through any
    channel but email (mail intake calls queue_acknowledgement itself, knowing whether the mail
    was automatic)."""
    created = TicketEvent.objects.filter(ticket_id=ticket_id, field="created").order_by("id").first()
    if created is None or created.actor_customer_id is None or created.via == Via.EMAIL:
        return None
    ticket = Ticket.objects.get(pk=ticket_id)
    return queue_acknowledgement(ticket, inbound_was_automatic=False)


# --- assignment ----------------------------------------------------------------------------------


def _latest_assignment(ticket_id: int) -> tuple[int | None, int | None, datetime.datetime] | None:
    """(assignee id, actor id, when) of the latest assignment event, created included."""
    event = (
        TicketEvent.objects.filter(ticket_id=ticket_id, field__in=["assignee", "created"])
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    new = event.new.get("assignee") if event.field == "created" and isinstance(event.new, dict) else event.new
    return (new if isinstance(new, int) else None), event.actor_user_id, event.created_at


def notify_assignment(ticket_id: int) -> OutboundMail | None:
    """Tell an agent a ticket was assigned to them by someone else (a person, a rule, the system);
    assigning oneself sends nothing. Once per assignment."""
    latest = _latest_assignment(ticket_id)
    if latest is None:
        return None
    assignee_id, actor_id, at = latest
    if assignee_id is None or assignee_id == actor_id:
        return None
    agent = User.objects.filter(pk=assignee_id, is_active=True, role__in=AGENT_ROLES).first()
    if agent is None or not agent.email:
        return None
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("requester", "team").get(pk=ticket_id)
        if ticket.assignee_id != assignee_id:
            return None  # reassigned meanwhile: that change sends its own notice
        if OutboundMail.objects.filter(
            ticket=ticket, kind=OutboundKind.ASSIGNMENT, to=[agent.email], queued_at__gte=at
        ).exists():
            return None
        assigned_by = User.objects.filter(pk=actor_id).first() if actor_id else None
        rendered = render(OutboundKind.ASSIGNMENT, ticket.team, _context(ticket, agent=agent, assigned_by=assigned_by))
        sender = outbound.sender_for(ticket)
        return outbound.create_outbound(
            ticket=ticket,
            kind=OutboundKind.ASSIGNMENT,
            sender=sender,
            recipients=outbound.Recipients(to=[agent.email]),
            subject=outbound.tagged_subject(rendered.subject, ticket.pk),
            body_text=rendered.text,
            body_html=rendered.html,
            auto_submitted=AUTO_GENERATED,
        )


def notify_staff(
    ticket: Ticket,
    *,
    users: Iterable[User] = (),
    emails: Iterable[str] = (),
    subject: str,
    text: str,
    cause: str = "",
) -> list[Notification]:
    """Tell staff about something that happened to a ticket: an in-app notification for each
    active staff user, and one email to the users' and the extra addresses (deduplicated, sent by
    the job worker after commit). Customers are never notified this way. Returns the in-app
    notifications written."""
    subject = " ".join(subject.split())[:300] or f"Ticket #{ticket.pk}"
    people = {u.pk: u for u in users if u.is_active and u.role in STAFF_ROLES}
    notices = Notification.objects.bulk_create(
        [Notification(user=u, ticket=ticket, subject=subject, text=text, cause=cause) for u in people.values()]
    )
    addresses = list(dict.fromkeys(a.strip().lower() for a in [*(u.email for u in people.values()), *emails] if a))
    if addresses:
        link = settings.BASE_URL.rstrip("/") + reverse("tickets:ticket", args=[ticket.pk])
        outbound.create_outbound(
            ticket=ticket,
            kind=OutboundKind.STAFF_NOTICE,
            sender=outbound.sender_for(ticket),
            recipients=outbound.Recipients(to=addresses),
            subject=outbound.tagged_subject(subject, ticket.pk),
            body_text=f"{text}\n\n{link}\n",
            body_html=linebreaks(f"{text}\n\n{link}", autoescape=True),
            auto_submitted=AUTO_GENERATED,
        )
    return notices
