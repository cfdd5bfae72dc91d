"""Every change to a ticket. Views, the API, mail intake, rules and the CLI all call these
functions: there is exactly one way to change a ticket.

Each action validates everything first (nothing is half-written), writes inside one transaction,
records a TicketEvent per change, bumps the ticket's version, keeps the search index in step, and
announces the change with ``signals.ticket_changed`` only after the transaction commits.

``actor`` is the User who acts, a Customer acting without an account (email), or None for the
system. A customer's User account acts as its Customer, so "who counts as whom" (DOMAIN.md) is
decided in one place.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from deskpilot.accounts.models import AGENT_ROLES, Role, Team, User
from deskpilot.core import per_change
from deskpilot.core.errors import InvalidInput, NotPermitted
from deskpilot.core.html import html_to_text, sanitize_html, text_to_html
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets import attachments as attachment_files
from deskpilot.tickets import permissions, search, signals
from deskpilot.tickets.custom_fields import clean_custom_fields
from deskpilot.tickets.models import (
    REOPENED_BY_CUSTOMER,
    Attachment,
    Channel,
    LinkKind,
    Message,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketTag,
    TicketType,
    Via,
)

Actor = User | Customer | None

SUBJECT_MAX = 300
TAG_MAX = 80


# --- actors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Who:
    """The actor, resolved: at most one of user and customer is set."""

    user: User | None = None
    customer: Customer | None = None

    @property
    def is_customer(self) -> bool:
        return self.customer is not None

    @property
    def is_agent(self) -> bool:
        return self.user is not None and self.user.role in AGENT_ROLES

    def event_fields(self) -> dict[str, Any]:
        return {"actor_user": self.user, "actor_customer": self.customer}


def _resolve(actor: Actor) -> _Who:
    if actor is None:
        return _Who()
    if isinstance(actor, Customer):
        return _Who(customer=actor)
    if not actor.is_active:
        raise NotPermitted("this account is deactivated")
    if actor.role == Role.CUSTOMER:
        customer = permissions.customer_of(actor)
        if customer is None:
            raise NotPermitted("this customer account has no customer record")
        return _Who(customer=customer)
    return _Who(user=actor)


# --- validation helpers ------------------------------------------------------------------------


def _choice(field_name: str, value: Any, choices: type[Any]) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise InvalidInput(field_name, f"{value!r} is not one of: {', '.join(allowed)}")
    return str(value)


def _clean_subject(subject: Any) -> str:
    if not isinstance(subject, str) or not subject.strip():
        raise InvalidInput("subject", "must not be empty")
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput("subject", f"must be at most {SUBJECT_MAX} characters")
    return subject


def clean_tag(name: str) -> str:
    """Tags are lower-case words; spaces become hyphens, so "Billing issue" is billing-issue."""
    tag = "-".join(str(name).strip().lower().split())
    if not tag:
        raise InvalidInput("tags", "a tag must not be empty")
    if len(tag) > TAG_MAX:
        raise InvalidInput("tags", f"tag {tag[:20]!r}… is longer than {TAG_MAX} characters")
    return tag


def _clean_tags(names: Iterable[str]) -> list[str]:
    return sorted({clean_tag(n) for n in names})


def _check_assignee(assignee: User | None, team: Team | None) -> None:
    if assignee is None:
        return
    if not assignee.is_active or assignee.role not in AGENT_ROLES:
        raise InvalidInput("assignee", f"{assignee.email} is not an active agent")
    if team is not None and not team.members.filter(pk=assignee.pk).exists():
        raise InvalidInput("assignee", f"{assignee.email} is not a member of team {team.name!r}")


@dataclass
class MessageBody:
    """A message's text and sanitised HTML, derived from whichever the caller gave."""

    text: str
    html: str


def _clean_body(body_text: str, body_html: str, *, field_name: str = "body") -> MessageBody:
    if body_html and body_html.strip():
        html = sanitize_html(body_html)
        text = body_text.strip() or html_to_text(html)
    else:
        text = body_text.strip()
        html = text_to_html(text)
    if not text and not html:
        raise InvalidInput(field_name, "must not be empty")
    if len(text) > settings.MESSAGE_MAX_CHARS or len(html) > settings.MESSAGE_MAX_CHARS * 2:
        raise InvalidInput(field_name, f"must be at most {settings.MESSAGE_MAX_CHARS} characters")
    return MessageBody(text=text, html=html)


# --- recording ---------------------------------------------------------------------------------

# What caused the changes being made now when it was not a person's own act ("trigger:12",
# "automation:3", "sla:breach", "macro:7"): every event recorded meanwhile carries it.
_cause: contextvars.ContextVar[str | None] = contextvars.ContextVar("deskpilot_ticket_cause", default=None)


@contextlib.contextmanager
def caused_by(cause: str) -> Iterator[None]:
    """Record ``cause`` on every TicketEvent written inside the block (nested blocks win)."""
    if not cause or len(cause) > 60:
        raise ValueError(f"a cause is 1-60 characters, not {cause!r}")
    token = _cause.set(cause)
    try:
        yield
    finally:
        _cause.reset(token)


def current_cause() -> str | None:
    return _cause.get()


@dataclass
class _Changes:
    """Events collected during one action, written together at the end."""

    ticket: Ticket
    who: _Who
    via: str
    at: datetime.datetime
    events: list[TicketEvent] = field(default_factory=list)
    # A ticket inserted just now, already with its first version and updated_at: no UPDATE.
    inserted: bool = False
    # Events that describe the ticket rather than change it (the SLA clock's findings): the
    # version and updated_at stay.
    derived: bool = False

    def add(self, name: str, old: Any, new: Any, message: Message | None = None) -> None:
        self.events.append(
            TicketEvent(
                ticket=self.ticket,
                field=name,
                old=old,
                new=new,
                via=self.via,
                message=message,
                created_at=self.at,
                cause=_cause.get(),
                **self.who.event_fields(),
            )
        )

    def save(self) -> list[TicketEvent]:
        if not self.events:
            return []
        TicketEvent.objects.bulk_create(self.events)
        ticket = self.ticket
        if not self.inserted and not self.derived:
            Ticket.objects.filter(pk=ticket.pk).update(version=ticket.version + 1, updated_at=self.at)
            ticket.version += 1
            ticket.updated_at = self.at
        ticket_id, fields = ticket.pk, [e.field for e in self.events]
        transaction.on_commit(lambda: signals.ticket_changed.send(sender=Ticket, ticket_id=ticket_id, fields=fields))
        # Inside the transaction: SLA clocks, triggers and routing act on the change before anyone
        # sees it, and a failure there rolls the whole change back. The receivers share what
        # they read once per change (the SLA configuration's stamp).
        with per_change.scope():
            signals.events_recorded.send(sender=Ticket, ticket=ticket, events=self.events)
        return self.events


def _set_tags(ticket: Ticket, names: list[str], *, new_ticket: bool = False) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    have: set[str] = set()
    if not new_ticket:  # a ticket inserted just now has no tags to remove or keep
        TicketTag.objects.filter(ticket=ticket).exclude(tag__name__in=names).delete()
        have = set(TicketTag.objects.filter(ticket=ticket).values_list("tag__name", flat=True))
    TicketTag.objects.bulk_create([TicketTag(ticket=ticket, tag=existing[n]) for n in names if n not in have])


def _tag_names(ticket: Ticket) -> list[str]:
    return sorted(TicketTag.objects.filter(ticket=ticket).values_list("tag__name", flat=True))


def _id(obj: Any) -> int | None:
    return None if obj is None else int(obj.pk)


def _write_message(
    ticket: Ticket,
    who: _Who,
    *,
    body: MessageBody,
    public: bool,
    via: str,
    at: datetime.datetime,
    files: Sequence[attachment_files.StoredFile],
    index: bool = True,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        author_user=who.user,
        author_customer=who.customer,
        public=public,
        body_text=body.text,
        body_html=body.html,
        via=via,
        created_at=at,
    )
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=message,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                created_at=at,
            )
            for f in files
        ]
    )
    if index:
        search.index_message(message)
    return message


def _message_event(changes: _Changes, message: Message, author_role: str, attachment_count: int) -> None:
    changes.add(
        "message",
        None,
        {"id": message.pk, "public": message.public, "author_role": author_role, "attachments": attachment_count},
        message=message,
    )


def _author_role(who: _Who) -> str:
    if who.customer is not None:
        return "customer"
    if who.user is not None:
        return str(who.user.role)
    return "system"


# --- create ------------------------------------------------------------------------------------


def create_ticket(
    *,
    actor: Actor,
    via: str,
    subject: str,
    requester: Customer,
    body_text: str = "",
    body_html: str = "",
    public: bool = True,
    priority: str = Priority.NORMAL,
    type: str = TicketType.QUESTION,
    channel: str | None = None,
    status: str | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    organization: Organization | None = None,
    tags: Iterable[str] = (),
    ccs: Iterable[Customer] = (),
    custom_fields: Mapping[str, Any] | None = None,
    attachments: Sequence[attachment_files.IncomingFile] = (),
    at: datetime.datetime | None = None,
    routed_team: Team | None = None,
) -> Ticket:
    """Open a ticket with its first message. A customer (or their account) can create tickets
    only for themselves, and cannot set status, team, assignee or tags. ``routed_team`` is the
    team the channel sends the ticket to (a mailbox's team): the system's routing, not the
    customer's choice, so it is accepted whoever the actor is; an explicit ``team`` wins."""
    who = _resolve(actor)
    if isinstance(actor, User):
        permissions.require_can_create(actor)
    at = at or timezone.now()
    _choice("via", via, Via)
    subject = _clean_subject(subject)
    body = _clean_body(body_text, body_html)
    priority = _choice("priority", priority, Priority)
    type = _choice("type", type, TicketType)
    channel = _choice("channel", channel or _default_channel(via), Channel)
    if who.is_customer:
        if requester.pk != who.customer.pk:  # type: ignore[union-attr]
            raise InvalidInput("requester", "customers can only open tickets for themselves")
        forbidden = {"status": status, "team": team, "assignee": assignee, "tags": list(tags) or None}
        for name, value in forbidden.items():
            if value:
                raise InvalidInput(name, "cannot be set by a customer")
        if not public:
            raise InvalidInput("public", "a customer's message is always public")
    status = _choice("status", status or (Status.OPEN if assignee else Status.NEW), Status)
    if status == Status.CLOSED:
        raise InvalidInput("status", "a new ticket cannot be closed")
    team = team or routed_team
    _check_assignee(assignee, team)
    tag_names = _clean_tags(tags)
    fields = clean_custom_fields(custom_fields or {}, creating=True)
    cc_list = [c for c in dict.fromkeys(ccs) if c.pk != requester.pk]
    files = attachment_files.store(list(attachments))
    # The requester's organization by id: the ticket needs no copy of it loaded.
    organization_id = organization.pk if organization is not None else requester.organization_id

    # No savepoint: everything that can be refused was checked above, and a caller's own
    # transaction (the API has one per request) rolls back as a whole on a database error.
    with transaction.atomic(savepoint=False):
        ticket = Ticket.objects.create(
            subject=subject,
            status=status,
            priority=priority,
            type=type,
            channel=channel,
            requester=requester,
            organization_id=organization_id,
            team=team,
            assignee=assignee,
            custom_fields=fields,
            created_at=at,
            updated_at=at,
            solved_at=at if status == Status.SOLVED else None,
            # Its version once the created event is recorded (_Changes.inserted).
            version=1,
        )
        if tag_names:
            _set_tags(ticket, tag_names, new_ticket=True)
        if cc_list:
            ticket.ccs.add(*cc_list)
        message = _write_message(ticket, who, body=body, public=public, via=via, at=at, files=files, index=False)
        # The search document once, from what was just written (no re-read of the messages).
        search.reindex([ticket], messages={ticket.pk: [message]})
        changes = _Changes(ticket, who, via, at, inserted=True)
        # The created event carries the whole initial state, so replaying events from it
        # reconstructs the ticket at any moment.
        changes.add(
            "created",
            None,
            {
                "subject": subject,
                "status": status,
                "priority": priority,
                "type": type,
                "channel": channel,
                "requester": requester.pk,
                "organization": organization_id,
                "team": _id(team),
                "assignee": _id(assignee),
                "tags": tag_names,
                "ccs": sorted(c.pk for c in cc_list),
                "custom_fields": fields,
            },
        )
        _message_event(changes, message, _author_role(who), len(files))
        changes.save()
    return ticket


def _default_channel(via: str) -> str:
    return {Via.EMAIL: Channel.EMAIL, Via.API: Channel.API}.get(via, Channel.WEB)  # type: ignore[call-overload]


# --- update ------------------------------------------------------------------------------------

UPDATABLE_FIELDS = frozenset(
    {
        "subject",
        "status",
        "priority",
        "type",
        "team",
        "assignee",
        "requester",
        "organization",
        "tags",
        "add_tags",
        "remove_tags",
        "ccs",
        "followers",
        "custom_fields",
    }
)


def update_ticket(
    ticket: Ticket,
    *,
    actor: Actor,
    via: str,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> list[TicketEvent]:
    """Change fields of a ticket. ``changes`` maps field names (UPDATABLE_FIELDS) to new values:
    model instances (or None) for team, assignee, requester and organization; tag names for
    tags / add_tags / remove_tags; Customer lists for ccs; User lists for followers; a dict for
    custom_fields (merged; None removes a key). Returns the events recorded (none when nothing
    actually changed). Raises StaleVersion when ``expected_version`` is outdated."""
    who = _resolve(actor)
    if isinstance(actor, User):
        permissions.require_can_update(actor, ticket)
    elif who.is_customer:
        raise NotPermitted("customers cannot change ticket fields")
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "is not a field that can be changed"))
    at = at or timezone.now()
    _choice("via", via, Via)

    with transaction.atomic():
        locked = _lock(ticket, expected_version)
        recorder = _Changes(locked, who, via, at)
        _apply_changes(locked, recorder, changes)
        events = recorder.save()
    _refresh_from(ticket, locked)
    return events


def _lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    from deskpilot.core.errors import StaleVersion

    # select_for_update on PostgreSQL; on SQLite the IMMEDIATE transaction already serialises writers.
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            f"ticket {locked.pk} has changed since version {expected_version} (now {locked.version}); reload and retry"
        )
    return locked


def _refresh_from(target: Ticket, source: Ticket) -> None:
    for f in Ticket._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    for cache_name in ("requester", "organization", "team", "assignee"):
        target._state.fields_cache.pop(cache_name, None)


def _apply_changes(ticket: Ticket, recorder: _Changes, changes: Mapping[str, Any]) -> None:
    """Validate all changes, then apply them; raises before writing anything."""
    updates: dict[str, Any] = {}
    if ticket.status == Status.CLOSED:
        raise InvalidInput("status", "closed tickets cannot be changed; a customer reply opens a follow-up")

    if "subject" in changes:
        updates["subject"] = _clean_subject(changes["subject"])
    for name, choices in (("priority", Priority), ("type", TicketType)):
        if name in changes:
            updates[name] = _choice(name, changes[name], choices)
    if "status" in changes:
        new_status = _choice("status", changes["status"], Status)
        if new_status == Status.NEW and ticket.status != Status.NEW:
            raise InvalidInput("status", "a ticket cannot go back to new once someone has acted on it")
        if new_status == Status.CLOSED and ticket.status != Status.SOLVED:
            raise InvalidInput("status", "only solved tickets can be closed")
        updates["status"] = new_status
    team = changes.get("team", ticket.team)
    assignee = changes.get("assignee", ticket.assignee)
    if "team" in changes:
        if team is not None and not isinstance(team, Team):
            raise InvalidInput("team", "must be a team")
        updates["team_id"] = _id(team)
        # Moving to another team unassigns an assignee who is not in it, unless a new one is given.
        if (
            "assignee" not in changes
            and assignee is not None
            and team is not None
            and not team.members.filter(pk=assignee.pk).exists()
        ):
            assignee = None
            updates["assignee_id"] = None
    if "assignee" in changes:
        if assignee is not None and not isinstance(assignee, User):
            raise InvalidInput("assignee", "must be a user")
        _check_assignee(assignee, team)
        updates["assignee_id"] = _id(assignee)
    if "requester" in changes:
        requester = changes["requester"]
        if not isinstance(requester, Customer):
            raise InvalidInput("requester", "must be a customer")
        updates["requester_id"] = requester.pk
    if "organization" in changes:
        organization = changes["organization"]
        if organization is not None and not isinstance(organization, Organization):
            raise InvalidInput("organization", "must be an organization")
        updates["organization_id"] = _id(organization)
    if "custom_fields" in changes:
        if not isinstance(changes["custom_fields"], Mapping):
            raise InvalidInput("custom_fields", "must be an object of field keys and values")
        updates["custom_fields"] = clean_custom_fields(changes["custom_fields"], current=ticket.custom_fields)
    new_tags: list[str] | None = None
    if any(k in changes for k in ("tags", "add_tags", "remove_tags")):
        current = set(_tag_names(ticket))
        # Fix: a copy. ``base = current`` aliased the set, so add_tags/remove_tags changed
        # "current" too, compared equal, and were silently dropped.
        base = set(_clean_tags(changes["tags"])) if "tags" in changes else set(current)
        base |= set(_clean_tags(changes.get("add_tags") or ()))
        base -= set(_clean_tags(changes.get("remove_tags") or ()))
        if base != current:
            new_tags = sorted(base)

    # Everything is valid: write.
    old_values = {name: getattr(ticket, name) for name in updates}
    for name, value in updates.items():
        if old_values[name] == value:
            continue
        setattr(ticket, name, value)
        recorder.add(name.removesuffix("_id"), old_values[name], value)
    if updates.get("status") and old_values.get("status") != updates["status"]:
        _stamp_status(ticket, updates["status"], recorder.at)
    if new_tags is not None:
        recorder.add("tags", _tag_names(ticket), new_tags)
        _set_tags(ticket, new_tags)
    if "ccs" in changes:
        _replace_people(ticket, recorder, "ccs", ticket.ccs, list(changes["ccs"]), Customer)
    if "followers" in changes:
        followers = list(changes["followers"])
        for user in followers:
            if not isinstance(user, User) or user.role == Role.CUSTOMER or not user.is_active:
                raise InvalidInput("followers", "followers must be active staff users")
        _replace_people(ticket, recorder, "followers", ticket.followers, followers, User)
    if recorder.events:
        ticket.save(update_fields=[*(n for n in updates), "solved_at", "closed_at"])
    if "subject" in updates and old_values["subject"] != updates["subject"]:
        search.reindex([ticket])


def _replace_people(ticket: Ticket, recorder: _Changes, name: str, manager: Any, people: list[Any], kind: type) -> None:
    for person in people:
        if not isinstance(person, kind):
            raise InvalidInput(name, f"must be a list of {kind.__name__.lower()}s")
    old = sorted(manager.values_list("pk", flat=True))
    new = sorted({p.pk for p in people} - ({ticket.requester_id} if name == "ccs" else set()))
    if old != new:
        manager.set(new)
        recorder.add(name, old, new)


def _stamp_status(ticket: Ticket, status: str, at: datetime.datetime) -> None:
    if status == Status.SOLVED:
        ticket.solved_at = at
    elif status == Status.CLOSED:
        ticket.closed_at = at
    else:
        ticket.solved_at = None


def _set_status(ticket: Ticket, recorder: _Changes, status: str) -> None:
    if ticket.status == status:
        return
    recorder.add("status", ticket.status, status)
    ticket.status = status
    _stamp_status(ticket, status, recorder.at)
    ticket.save(update_fields=["status", "solved_at", "closed_at"])


# --- messages ----------------------------------------------------------------------------------


def add_message(
    ticket: Ticket,
    *,
    actor: Actor,
    via: str,
    body_text: str = "",
    body_html: str = "",
    public: bool = True,
    attachments: Sequence[attachment_files.IncomingFile] = (),
    status: str | None = None,
    at: datetime.datetime | None = None,
) -> Message:
    """Add a public reply or an internal note.

    Lifecycle (DOMAIN.md): a customer's message moves pending, on-hold and solved tickets back
    to open, and on a closed ticket starts a new follow-up ticket linked to it (the returned
    message is then on the follow-up). An agent's public reply opens a new ticket. ``status``
    lets an agent set the status with the reply ("reply and set pending")."""
    who = _resolve(actor)
    if isinstance(actor, User):
        permissions.require_can_add_message(actor, ticket, public=public)
    if who.is_customer:
        public = True
        if status is not None:
            raise InvalidInput("status", "cannot be set by a customer")
    # Fix: only agents change fields; a collaborator's note could set any status before.
    if status is not None and who.user is not None and not who.is_agent:
        raise InvalidInput("status", f"cannot be set by a {who.user.role}")
    at = at or timezone.now()
    _choice("via", via, Via)
    body = _clean_body(body_text, body_html)
    if status is not None:
        status = _choice("status", status, Status)
    files = attachment_files.store(list(attachments))

    with transaction.atomic():
        locked = _lock(ticket, None)
        if locked.status == Status.CLOSED:
            if not who.is_customer:
                raise InvalidInput("ticket", "closed tickets cannot be changed")
            follow_up = _open_follow_up(locked, who, via=via, at=at)
            message = _write_message(follow_up, who, body=body, public=True, via=via, at=at, files=files)
            recorder = _Changes(follow_up, who, via, at)
            _message_event(recorder, message, "customer", len(files))
            recorder.save()
            _refresh_from(ticket, locked)
            return message
        message = _write_message(locked, who, body=body, public=public, via=via, at=at, files=files)
        recorder = _Changes(locked, who, via, at)
        _message_event(recorder, message, _author_role(who), len(files))
        if who.is_customer and locked.status in REOPENED_BY_CUSTOMER:
            _set_status(locked, recorder, Status.OPEN)
        elif status is not None:
            if status == Status.CLOSED:
                raise InvalidInput("status", "a reply cannot close a ticket: solve it, and it closes on its own")
            # Fix: the same rule as update_ticket; "reply and set new" undid the agent's work.
            if status == Status.NEW and locked.status != Status.NEW:
                raise InvalidInput("status", "a ticket cannot go back to new once someone has acted on it")
            _set_status(locked, recorder, status)
        elif who.is_agent and public and locked.status == Status.NEW:
            _set_status(locked, recorder, Status.OPEN)
        recorder.save()
    _refresh_from(ticket, locked)
    return message


_SAFE_CONTENT_ID = re.compile(r"[A-Za-z0-9._%+@$=-]{1,200}")


def set_inline_images(message: Message, images: Mapping[str, int]) -> None:
    """Show an email's inline images: ``cid:<content-id>`` references in the message's stored
    HTML point at the download URL of the attachment (by id) stored with that content id. Only
    attachments of the message itself are used; no event (the content does not change, only
    where its pictures are loaded from)."""
    from django.urls import reverse

    html = message.body_html or ""
    own = set(Attachment.objects.filter(message=message, pk__in=list(images.values())).values_list("pk", flat=True))
    for content_id, attachment_id in images.items():
        # The sender chose the Content-ID: only plain ones are used, so a replacement can never
        # end an attribute early or open a tag ("cid:x\">..." would).
        if attachment_id not in own or not _SAFE_CONTENT_ID.fullmatch(content_id or ""):
            continue
        url = reverse("api:attachment_download", kwargs={"attachment_id": attachment_id})
        for quote in ('"', "'"):
            html = html.replace(f"{quote}cid:{content_id}{quote}", f"{quote}{url}{quote}")
    if html != message.body_html:
        # Sanitised again after the edit, as every stored HTML is: the stored HTML is rendered
        # as is, and a text replacement must not be what decides whether markup is safe.
        html = sanitize_html(html)
        message.body_html = html
        Message.objects.filter(pk=message.pk).update(body_html=html)


def _open_follow_up(closed: Ticket, who: _Who, *, via: str, at: datetime.datetime) -> Ticket:
    follow_up = Ticket.objects.create(
        subject=closed.subject,
        status=Status.NEW,
        priority=closed.priority,
        type=closed.type,
        channel=closed.channel,
        requester=closed.requester,
        organization=closed.organization,
        team=closed.team,
        custom_fields=closed.custom_fields,
        created_at=at,
        updated_at=at,
        version=0,
    )
    tags = _tag_names(closed)
    if tags:
        _set_tags(follow_up, tags)
    # The CCs carry over: a CC'd customer whose reply started the follow-up must be able to see
    # it, and the conversation keeps its audience.
    ccs = list(closed.ccs.all())
    if ccs:
        follow_up.ccs.set(ccs)
    search.reindex([follow_up])
    TicketLink.objects.create(source=follow_up, target=closed, kind=LinkKind.FOLLOW_UP, created_at=at)
    recorder = _Changes(follow_up, who, via, at)
    recorder.add(
        "created",
        None,
        {
            "subject": follow_up.subject,
            "status": Status.NEW,
            "priority": follow_up.priority,
            "type": follow_up.type,
            "channel": follow_up.channel,
            "requester": follow_up.requester_id,
            "organization": follow_up.organization_id,
            "team": follow_up.team_id,
            "assignee": None,
            "tags": tags,
            "ccs": sorted(c.pk for c in ccs),
            "custom_fields": follow_up.custom_fields,
            "follow_up_of": closed.pk,
        },
    )
    recorder.save()
    # The closed ticket is final; its history only notes that the conversation went on elsewhere.
    TicketEvent.objects.create(
        ticket=closed, field="link", old=None, new={"kind": "follow_up", "ticket": follow_up.pk}, via=via,
        created_at=at, **who.event_fields(),
    )  # fmt: skip
    return follow_up


# --- SLA findings ------------------------------------------------------------------------------

SLA_FIELDS = frozenset({"sla", "sla_policy", "sla_pin"})


def record_sla_events(
    ticket: Ticket, entries: Sequence[tuple[str, Any, datetime.datetime]], *, cause: str = "sla"
) -> list[TicketEvent]:
    """Record what the SLA clock found, each at its own moment: ``("sla_policy", {"id", "name"},
    at)`` when another policy applies, ``("sla", {"kind": "warning" | "breach", "metric", ...},
    at)`` for a warning or a breach, ``("sla_pin", {"policy", "calendar"}, at)`` when a rule
    (``cause``) pins a policy or calendar. Called by ``policies.sla`` inside the change's transaction,
    with the ticket locked. The events describe the ticket rather than change it: its version and
    updated_at stay, but they are announced like any change (escalations, webhooks, history)."""
    if not entries:
        return []
    for name, _new, at in entries:
        if name not in SLA_FIELDS:
            raise ValueError(f"{name!r} is not an SLA event")
        if at.utcoffset() is None:
            raise ValueError("SLA events need aware datetimes")
    recorder = _Changes(ticket, _Who(), Via.SYSTEM, entries[0][2], derived=True)
    with caused_by(cause):
        for name, new, at in entries:
            recorder.add(name, None, new)
            recorder.events[-1].created_at = at
    return recorder.save()


# --- escalation --------------------------------------------------------------------------------

# The ladder, bottom first: no level is tier 1 (policies.models.EscalationLevel names the rest).
ESCALATION_LADDER: tuple[str | None, ...] = (None, "tier2", "manager")
ESCALATION_REASON_MAX = 500


def _clean_reason(reason: Any, *, required: bool) -> str:
    if not isinstance(reason, str):
        raise InvalidInput("reason", "must be text")
    reason = " ".join(reason.split())
    if required and not reason:
        raise InvalidInput("reason", "say why: the next person reads it in the history")
    if len(reason) > ESCALATION_REASON_MAX:
        raise InvalidInput("reason", f"must be at most {ESCALATION_REASON_MAX} characters")
    return reason


def set_escalation(
    ticket: Ticket,
    *,
    actor: Actor,
    via: str,
    level: str | None,
    reason: str = "",
    team: Team | None = None,
    expected_version: int | None = None,
) -> list[TicketEvent]:
    """Move the ticket up or down the escalation ladder (tier 1 → tier 2 → manager) with a
    reason; an agent must give one, a rule's is its name. ``team`` also moves it to that team's
    queue (tier 2, a manager queue). One ``escalation`` event ({"level", "reason", "direction"}),
    counted in reports and shown in the history. Raises InvalidInput when the level is the current
    one or unknown."""
    who = _resolve(actor)
    if isinstance(actor, User):
        permissions.require_can_update(actor, ticket)
    elif who.is_customer:
        raise NotPermitted("customers cannot escalate tickets")
    if level not in ESCALATION_LADDER:
        names = ", ".join(str(x) for x in ESCALATION_LADDER if x)
        raise InvalidInput("level", f"{level!r} is not an escalation level ({names}, or empty for tier 1)")
    reason = _clean_reason(reason, required=who.user is not None)
    _choice("via", via, Via)
    at = timezone.now()
    with transaction.atomic():
        locked = _lock(ticket, expected_version)
        if locked.status == Status.CLOSED:
            raise InvalidInput("ticket", "closed tickets cannot be escalated")
        current = locked.escalation or None
        if level == current:
            raise InvalidInput("level", f"the ticket is already at {level or 'tier 1'}")
        direction = "up" if ESCALATION_LADDER.index(level) > ESCALATION_LADDER.index(current) else "down"
        recorder = _Changes(locked, who, via, at)
        locked.escalation = level
        Ticket.objects.filter(pk=locked.pk).update(escalation=level)
        recorder.add("escalation", {"level": current}, {"level": level, "reason": reason, "direction": direction})
        if team is not None and team.pk != locked.team_id:
            _apply_changes(locked, recorder, {"team": team})
        events = recorder.save()
    _refresh_from(ticket, locked)
    return events


# --- links, merge, split, close ----------------------------------------------------------------


def link_tickets(source: Ticket, target: Ticket, *, actor: Actor, via: str, kind: str = LinkKind.RELATED) -> TicketLink:
    """Link two tickets. Agents link by hand; the system (actor None) links what mail intake
    decides, e.g. a stranger's mail that named a ticket it may not write into (DOMAIN.md)."""
    who = _resolve(actor)
    if actor is not None and not who.is_agent:
        raise NotPermitted("only agents can link tickets")
    kind = _choice("kind", kind, LinkKind)
    if source.pk == target.pk:
        raise InvalidInput("target", "a ticket cannot be linked to itself")
    at = timezone.now()
    with transaction.atomic():
        link, created = TicketLink.objects.get_or_create(source=source, target=target, kind=kind)
        if created:
            for one, other in ((source, target), (target, source)):
                recorder = _Changes(_lock(one, None), who, via, at)
                recorder.add(
                    "link", None, {"kind": kind, "ticket": other.pk, "direction": "out" if one is source else "in"}
                )
                recorder.save()
    return link


def merge_tickets(source: Ticket, target: Ticket, *, actor: Actor, via: str) -> Ticket:
    """Merge ``source`` into ``target``: its messages move, its tags and people join the target,
    and the source is closed with a link to the target."""
    who = _resolve(actor)
    if not who.is_agent:
        raise NotPermitted("only agents can merge tickets")
    _choice("via", via, Via)
    if source.pk == target.pk:
        raise InvalidInput("target", "a ticket cannot be merged into itself")
    at = timezone.now()
    with transaction.atomic():
        # Lock in id order so two concurrent merges of the same pair cannot deadlock.
        first, second = sorted([source, target], key=lambda t: t.pk)
        locked = {t.pk: _lock(t, None) for t in (first, second)}
        src, dst = locked[source.pk], locked[target.pk]
        for name, t in (("source", src), ("target", dst)):
            if t.status == Status.CLOSED:
                raise InvalidInput(name, f"ticket {t.pk} is closed and cannot be merged")
        moved = list(Message.objects.filter(ticket=src).values_list("pk", flat=True))
        Message.objects.filter(ticket=src).update(ticket=dst)
        tags = sorted(set(_tag_names(src)) | set(_tag_names(dst)))
        dst_recorder = _Changes(dst, who, via, at)
        dst_recorder.add("merge", None, {"from": src.pk, "messages": moved})
        if tags != _tag_names(dst):
            dst_recorder.add("tags", _tag_names(dst), tags)
            _set_tags(dst, tags)
        people = {c.pk for c in src.ccs.all()} | ({src.requester_id} - {dst.requester_id})
        current_ccs = set(dst.ccs.values_list("pk", flat=True))
        if people - current_ccs:
            joined = list(Customer.objects.filter(pk__in=people | current_ccs))
            _replace_people(dst, dst_recorder, "ccs", dst.ccs, joined, Customer)
        dst_recorder.save()

        note = Message.objects.create(
            ticket=src, author_user=who.user, public=False, via=via, created_at=at,
            body_text=f"Merged into ticket #{dst.pk}.", body_html=text_to_html(f"Merged into ticket #{dst.pk}."),
        )  # fmt: skip
        src_recorder = _Changes(src, who, via, at)
        src_recorder.add("merge", None, {"into": dst.pk, "messages": moved}, message=note)
        if src.status != Status.SOLVED:
            _set_status(src, src_recorder, Status.SOLVED)
        _set_status(src, src_recorder, Status.CLOSED)
        src_recorder.save()
        TicketLink.objects.get_or_create(source=src, target=dst, kind=LinkKind.MERGED_INTO)
        search.reindex([src, dst])
    _refresh_from(source, src)
    _refresh_from(target, dst)
    return dst


def split_ticket(
    ticket: Ticket, *, actor: Actor, via: str, message_ids: Sequence[int], subject: str | None = None
) -> Ticket:
    """Move some messages of ``ticket`` to a new ticket linked to it (a second question asked in
    the same conversation). At least one message must stay behind."""
    who = _resolve(actor)
    if not who.is_agent:
        raise NotPermitted("only agents can split tickets")
    _choice("via", via, Via)
    at = timezone.now()
    with transaction.atomic():
        original = _lock(ticket, None)
        if original.status == Status.CLOSED:
            raise InvalidInput("ticket", "closed tickets cannot be split")
        ids = sorted(set(message_ids))
        if not ids:
            raise InvalidInput("message_ids", "name at least one message to move")
        own = set(Message.objects.filter(ticket=original).values_list("pk", flat=True))
        foreign = [i for i in ids if i not in own]
        if foreign:
            raise InvalidInput("message_ids", f"messages {foreign} are not on ticket {original.pk}")
        if len(own) == len(ids):
            raise InvalidInput("message_ids", "at least one message must stay on the original ticket")
        first = Message.objects.filter(pk__in=ids).order_by("created_at", "id").first()
        assert first is not None
        new = Ticket.objects.create(
            subject=_clean_subject(subject or original.subject),
            status=Status.OPEN,
            priority=original.priority,
            type=original.type,
            channel=original.channel,
            requester=original.requester,
            organization=original.organization,
            team=original.team,
            assignee=original.assignee,
            custom_fields=original.custom_fields,
            created_at=at,
            updated_at=at,
            version=0,
        )
        tags = _tag_names(original)
        if tags:
            _set_tags(new, tags)
        Message.objects.filter(pk__in=ids).update(ticket=new)
        TicketLink.objects.create(source=new, target=original, kind=LinkKind.SPLIT_FROM, created_at=at)
        new_recorder = _Changes(new, who, via, at)
        new_recorder.add(
            "created",
            None,
            {
                "subject": new.subject, "status": new.status, "priority": new.priority, "type": new.type,
                "channel": new.channel, "requester": new.requester_id, "organization": new.organization_id,
                "team": new.team_id, "assignee": new.assignee_id, "tags": tags, "ccs": [],
                "custom_fields": new.custom_fields, "split_from": original.pk,
            },
        )  # fmt: skip
        new_recorder.add("split", None, {"from": original.pk, "messages": ids})
        new_recorder.save()
        old_recorder = _Changes(original, who, via, at)
        old_recorder.add("split", None, {"into": new.pk, "messages": ids})
        old_recorder.save()
        search.reindex([original, new])
    _refresh_from(ticket, original)
    return new


def close_solved_tickets(*, now: datetime.datetime | None = None, days: int | None = None, batch: int = 500) -> int:
    """Close tickets solved at least ``days`` ago (default AUTO_CLOSE_DAYS). Idempotent and safe
    to run in several workers at once: each ticket is re-checked under its lock."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.AUTO_CLOSE_DAYS if days is None else days)
    closed = 0
    while True:
        ids = list(
            Ticket.objects.filter(status=Status.SOLVED, solved_at__lte=cutoff)
            .order_by("solved_at")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return closed
        for ticket_id in ids:
            with transaction.atomic():
                ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, status=Status.SOLVED).first()
                if ticket is None or ticket.solved_at is None or ticket.solved_at > cutoff:
                    continue
                recorder = _Changes(ticket, _Who(), Via.SYSTEM, now)
                _set_status(ticket, recorder, Status.CLOSED)
                recorder.save()
                closed += 1
