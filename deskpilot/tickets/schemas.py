"""API schemas for tickets, messages and events, and their conversion from models."""

import datetime
from typing import Any, Literal

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from deskpilot.core.api_support import StrictIn
from deskpilot.tickets.models import Attachment, Message, Ticket, TicketEvent, TicketLink
from deskpilot.tickets.queries import TicketDetail

StatusName = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
PriorityName = Literal["low", "normal", "high", "urgent"]
TypeName = Literal["question", "incident", "problem", "task"]
ChannelName = Literal["email", "web", "portal", "api", "phone", "chat"]


class PersonIn(StrictIn):
    email: str = Field(max_length=254)
    name: str = Field(default="", max_length=200)


class AttachmentIn(StrictIn):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="", max_length=127)
    content_base64: str


class TicketCreateIn(StrictIn):
    subject: str = Field(max_length=300)
    body: str = ""
    body_html: str = ""
    public: bool = True
    requester: PersonIn | None = None
    requester_id: int | None = None
    priority: PriorityName = "normal"
    type: TypeName = "question"
    channel: ChannelName | None = None
    status: StatusName | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    tags: list[str] = []
    cc: list[PersonIn] = []
    custom_fields: dict[str, Any] = {}
    attachments: list[AttachmentIn] = []


class TicketUpdateIn(StrictIn):
    subject: str | None = None
    status: StatusName | None = None
    priority: PriorityName | None = None
    type: TypeName | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    tags: list[str] | None = None
    add_tags: list[str] | None = None
    remove_tags: list[str] | None = None
    cc: list[PersonIn] | None = None
    follower_ids: list[int] | None = None
    custom_fields: dict[str, Any] | None = None


class MessageCreateIn(StrictIn):
    body: str = ""
    body_html: str = ""
    public: bool = True
    status: StatusName | None = None
    attachments: list[AttachmentIn] = []


class MergeIn(StrictIn):
    into_id: int


class SplitIn(StrictIn):
    message_ids: list[int]
    subject: str | None = None


class LinkIn(StrictIn):
    target_id: int
    kind: Literal["related", "duplicate_of"] = "related"


class Ref(Schema):
    id: int
    name: str


class PersonOut(Schema):
    id: int
    name: str
    email: str


class AuthorOut(Schema):
    kind: Literal["user", "customer", "system"]
    id: int | None
    name: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class MessageOut(Schema):
    id: int
    ticket_id: int
    public: bool
    author: AuthorOut
    body_text: str
    body_html: str
    via: str
    created_at: datetime.datetime
    attachments: list[AttachmentOut]


class LinkOut(Schema):
    kind: str
    direction: Literal["out", "in"]
    ticket_id: int
    subject: str


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    status: StatusName
    priority: PriorityName
    type: TypeName
    channel: ChannelName
    requester: PersonOut
    organization: Ref | None
    team: Ref | None
    assignee: PersonOut | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    solved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    version: int


class TicketDetailOut(TicketOut):
    ccs: list[PersonOut]
    followers: list[PersonOut]
    links: list[LinkOut]
    messages: list[MessageOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    field: str
    old: Any
    new: Any
    actor: AuthorOut
    via: str
    message_id: int | None
    created_at: datetime.datetime


# --- conversion --------------------------------------------------------------------------------


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse("api:attachment_download", kwargs={"attachment_id": attachment.pk}),
    }


def _author(user: Any, customer: Any) -> dict[str, Any]:
    if user is not None:
        return {"kind": "user", "id": user.pk, "name": user.name}
    if customer is not None:
        return {"kind": "customer", "id": customer.pk, "name": customer.name}
    return {"kind": "system", "id": None, "name": "Deskpilot"}


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "ticket_id": message.ticket_id,
        "public": message.public,
        "author": _author(message.author_user, message.author_customer),
        "body_text": message.body_text,
        "body_html": message.body_html,
        "via": message.via,
        "created_at": message.created_at,
        "attachments": [attachment_out(a) for a in message.attachments.all()],
    }


def _person(customer: Any) -> dict[str, Any]:
    return {"id": customer.pk, "name": customer.name, "email": customer.primary_email}


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "number": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "channel": ticket.channel,
        "requester": _person(ticket.requester),
        "organization": {"id": ticket.organization.pk, "name": ticket.organization.name}
        if ticket.organization
        else None,
        "team": {"id": ticket.team.pk, "name": ticket.team.name} if ticket.team else None,
        "assignee": {"id": ticket.assignee.pk, "name": ticket.assignee.name, "email": ticket.assignee.email}
        if ticket.assignee
        else None,
        "tags": sorted(t.name for t in ticket.tags.all()),
        "custom_fields": ticket.custom_fields,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "solved_at": ticket.solved_at,
        "closed_at": ticket.closed_at,
        "version": ticket.version,
    }


def _link_out(link: TicketLink, ticket: Ticket) -> dict[str, Any]:
    outgoing = link.source_id == ticket.pk
    other = link.target if outgoing else link.source
    return {
        "kind": link.kind,
        "direction": "out" if outgoing else "in",
        "ticket_id": other.pk,
        "subject": other.subject,
    }


def ticket_detail_out(detail: TicketDetail) -> dict[str, Any]:
    ticket = detail.ticket
    data = ticket_out(ticket)
    data["ccs"] = [_person(c) for c in ticket.ccs.all()]
    # Who follows a ticket inside the team is not the customer's business.
    data["followers"] = (
        [{"id": u.pk, "name": u.name, "email": u.email} for u in ticket.followers.all()] if detail.show_internal else []
    )
    data["links"] = [_link_out(link, ticket) for link in detail.links] if detail.show_internal else []
    data["messages"] = [message_out(m) for m in detail.messages]
    return data


_CUSTOMER_CREATED_KEYS = ("subject", "status", "priority", "type", "channel")


def event_out(event: TicketEvent, *, show_internal: bool) -> dict[str, Any]:
    new = event.new
    if not show_internal and event.field == "created" and isinstance(new, dict):
        new = {k: new.get(k) for k in _CUSTOMER_CREATED_KEYS}
    return {
        "id": event.pk,
        "field": event.field,
        "old": event.old,
        "new": new,
        "actor": _author(event.actor_user, event.actor_customer),
        "via": event.via,
        "message_id": event.message_id,
        "created_at": event.created_at,
    }
