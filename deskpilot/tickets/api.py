"""/api/v1/tickets and /api/v1/attachments: thin handlers over tickets.actions and tickets.queries."""

import base64
import binascii
import datetime
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Query, Router

from deskpilot.accounts.models import Team, User
from deskpilot.core.api_support import (
    DEFAULT_PAGE_SIZE,
    ErrorOut,
    api_field_names,
    idempotent,
    parse_ordering,
    request_user,
)
from deskpilot.core.errors import InvalidInput, NotFound, StaleVersion
from deskpilot.customers.actions import find_or_create_customer
from deskpilot.customers.models import Customer, Organization
from deskpilot.tickets import actions, attachments, permissions, queries
from deskpilot.tickets.models import Via
from deskpilot.tickets.schemas import (
    AttachmentIn,
    EventOut,
    LinkIn,
    MergeIn,
    MessageCreateIn,
    MessageOut,
    PersonIn,
    SplitIn,
    TicketCreateIn,
    TicketDetailOut,
    TicketPage,
    TicketUpdateIn,
    event_out,
    message_out,
    ticket_detail_out,
    ticket_out,
)

router = Router(tags=["tickets"])
attachment_router = Router(tags=["tickets"])

ERRORS: dict[int, type[ErrorOut]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    412: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
# Action field names as the API spells them.
API_FIELDS = {
    "assignee": "assignee_id",
    "team": "team_id",
    "requester": "requester_id",
    "organization": "organization_id",
    # Fix: the action reports invalid followers as "followers"; the API field is follower_ids.
    "followers": "follower_ids",
}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _decode_files(files: list[AttachmentIn]) -> list[attachments.IncomingFile]:
    decoded = []
    for index, file in enumerate(files):
        try:
            content = base64.b64decode(file.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"attachments[{index}].content_base64", "is not valid base64") from None
        decoded.append(
            attachments.IncomingFile(filename=file.filename, content=content, content_type=file.content_type)
        )
    return decoded


def _get(model: type[Any], pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput(field, f"no {model._meta.verbose_name} with id {pk}")
    return found


def _people(entries: list[PersonIn], field: str) -> list[Customer]:
    people = []
    for index, entry in enumerate(entries):
        # Fix: api_field_names renames the head of a field name, so the key is "requester"
        # (the old "requester.email" key never matched and a bad CC address was reported as
        # "requester.email", or as "requester_id.email" inside the API_FIELDS block).
        with api_field_names({"requester": f"{field}[{index}]"}):
            people.append(find_or_create_customer(entry.email, entry.name))
    return people


def _split(values: list[str]) -> list[str]:
    """Repeated parameters and comma-separated lists both work: ?status=open,pending."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("", response={200: TicketPage, **ERRORS}, summary="List tickets")
def list_tickets(
    request: HttpRequest,
    status: list[str] = Query([]),  # noqa: B008 - ninja's declaration style
    priority: list[str] = Query([]),  # noqa: B008
    type: list[str] = Query([]),  # noqa: B008
    channel: list[str] = Query([]),  # noqa: B008
    assignee: str | None = Query(None, description="a user id, 'me' or 'none'"),
    team: str | None = Query(None, description="a team id or 'none'"),
    requester: int | None = None,
    organization: int | None = None,
    tag: list[str] = Query([]),  # noqa: B008
    created_after: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    q: str | None = Query(None, description="full-text search over subject and messages"),
    sort: str = Query("-id", description="id, created_at or updated_at; a leading - sorts newest first"),
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> HttpResponse:
    filters = queries.TicketFilters(
        statuses=_split(status),
        priorities=_split(priority),
        types=_split(type),
        channels=_split(channel),
        assignee=assignee,
        team=team,
        requester=requester,
        organization=organization,
        tags=_split(tag),
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        q=q,
    )
    ordering = parse_ordering(sort, queries.SORTABLE)
    rows, next_cursor = queries.ticket_page(
        request_user(request), filters, ordering=ordering, cursor=cursor, limit=limit
    )
    return _json(200, {"items": [ticket_out(t) for t in rows], "next_cursor": next_cursor})


def _detail_response(request: HttpRequest, ticket_id: int, status: int = 200) -> HttpResponse:
    detail = queries.ticket_detail(request_user(request), ticket_id)
    return _json(status, ticket_detail_out(detail), {"ETag": detail.ticket.etag})


@router.post("", response={201: TicketDetailOut, **ERRORS}, summary="Create a ticket")
@idempotent
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> HttpResponse:
    user = request_user(request)
    permissions.require_can_create(user)
    customer = permissions.customer_of(user)
    # Fix: one transaction for the whole request. The requester and CC customers are created
    # before the action validates the rest, so a 422/413 used to leave them behind.
    with transaction.atomic():
        # Fix: resolved outside the API_FIELDS renaming, which turned this code's own
        # "requester" and "requester.email" errors into "requester_id" / "requester_id.email".
        if customer is not None:
            if payload.requester_id not in (None, customer.pk) or (
                payload.requester is not None and payload.requester.email.lower() != customer.primary_email.lower()
            ):
                raise InvalidInput("requester", "customers can only open tickets for themselves")
            requester = customer
        elif payload.requester_id is not None:
            requester = _get(Customer, payload.requester_id, "requester_id")
        elif payload.requester is not None:
            requester = find_or_create_customer(payload.requester.email, payload.requester.name)
        else:
            raise InvalidInput("requester", "give requester {email, name} or requester_id")
        ccs = _people(payload.cc, "cc")
        with api_field_names(API_FIELDS):
            ticket = actions.create_ticket(
                actor=user,
                via=Via.API,
                subject=payload.subject,
                requester=requester,
                body_text=payload.body,
                body_html=payload.body_html,
                public=payload.public,
                priority=payload.priority,
                type=payload.type,
                channel=payload.channel,
                status=payload.status,
                team=_get(Team, payload.team_id, "team_id"),
                assignee=_get(User, payload.assignee_id, "assignee_id"),
                tags=payload.tags,
                ccs=ccs,
                custom_fields=payload.custom_fields,
                attachments=_decode_files(payload.attachments),
            )
    return _detail_response(request, ticket.pk, status=201)


@router.get("/{ticket_id}", response={200: TicketDetailOut, **ERRORS}, summary="Get a ticket with its messages")
def get_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _detail_response(request, ticket_id)


def _expected_version(request: HttpRequest, ticket_id: int) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    number, _, version = tag.partition("-")
    if number != str(ticket_id) or not version.isdigit():
        raise StaleVersion(f"If-Match {header!r} is not an ETag of ticket {ticket_id}")
    return int(version)


@router.patch("/{ticket_id}", response={200: TicketDetailOut, **ERRORS}, summary="Change a ticket")
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketUpdateIn) -> HttpResponse:
    user = request_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    # Fix: one transaction, so CC customers created while reading the request are rolled back
    # when the change is refused (stale If-Match, invalid field).
    with transaction.atomic(), api_field_names(API_FIELDS):
        for name in ("subject", "status", "priority", "type", "tags", "add_tags", "remove_tags", "custom_fields"):
            if name in given:
                if given[name] is None and name != "custom_fields":
                    raise InvalidInput(name, "must not be null")
                changes[name] = given[name] if given[name] is not None else {}
        if "team_id" in given:
            changes["team"] = _get(Team, given["team_id"], "team_id")
        if "assignee_id" in given:
            changes["assignee"] = _get(User, given["assignee_id"], "assignee_id")
        if "organization_id" in given:
            changes["organization"] = _get(Organization, given["organization_id"], "organization_id")
        if "requester_id" in given:
            if given["requester_id"] is None:
                raise InvalidInput("requester_id", "a ticket always has a requester")
            changes["requester"] = _get(Customer, given["requester_id"], "requester_id")
        if "cc" in given:
            changes["ccs"] = _people(payload.cc or [], "cc")
        if "follower_ids" in given:
            ids = given["follower_ids"] or []
            followers = list(User.objects.filter(pk__in=ids))
            missing = sorted(set(ids) - {u.pk for u in followers})
            if missing:
                raise InvalidInput("follower_ids", f"no users with ids {missing}")
            changes["followers"] = followers
        actions.update_ticket(
            ticket, actor=user, via=Via.API, changes=changes, expected_version=_expected_version(request, ticket_id)
        )
    return _detail_response(request, ticket_id)


@router.post(
    "/{ticket_id}/messages", response={201: MessageOut, **ERRORS}, summary="Add a public reply or an internal note"
)
@idempotent
def add_message(request: HttpRequest, ticket_id: int, payload: MessageCreateIn) -> HttpResponse:
    user = request_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    message = actions.add_message(
        ticket,
        actor=user,
        via=Via.API,
        body_text=payload.body,
        body_html=payload.body_html,
        public=payload.public,
        status=payload.status,
        attachments=_decode_files(payload.attachments),
    )
    return _json(201, message_out(message))


@router.get("/{ticket_id}/events", response={200: list[EventOut], **ERRORS}, summary="A ticket's change history")
def list_events(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = request_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    show_internal = permissions.sees_internal(user)
    return _json(200, [event_out(e, show_internal=show_internal) for e in queries.ticket_events(user, ticket)])


@router.post("/{ticket_id}/merge", response={200: TicketDetailOut, **ERRORS}, summary="Merge into another ticket")
def merge_ticket(request: HttpRequest, ticket_id: int, payload: MergeIn) -> HttpResponse:
    user = request_user(request)
    source = permissions.get_visible_ticket(user, ticket_id)
    # Fix: permission before the target lookup (as split and links do), so a customer or
    # collaborator gets 403 whatever into_id names, not 422 for a ticket they cannot see.
    permissions.require_agent(user)
    try:
        target = permissions.get_visible_ticket(user, payload.into_id)
    except NotFound:
        raise InvalidInput("into_id", f"no ticket with id {payload.into_id}") from None
    with api_field_names({"target": "into_id", "source": "ticket_id"}):
        actions.merge_tickets(source, target, actor=user, via=Via.API)
    return _detail_response(request, target.pk)


@router.post("/{ticket_id}/split", response={201: TicketDetailOut, **ERRORS}, summary="Move messages to a new ticket")
def split_ticket(request: HttpRequest, ticket_id: int, payload: SplitIn) -> HttpResponse:
    user = request_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    permissions.require_agent(user)
    new = actions.split_ticket(
        ticket, actor=user, via=Via.API, message_ids=payload.message_ids, subject=payload.subject
    )
    return _detail_response(request, new.pk, status=201)


@router.post("/{ticket_id}/links", response={201: TicketDetailOut, **ERRORS}, summary="Link to another ticket")
def link_ticket(request: HttpRequest, ticket_id: int, payload: LinkIn) -> HttpResponse:
    user = request_user(request)
    source = permissions.get_visible_ticket(user, ticket_id)
    permissions.require_agent(user)
    try:
        target = permissions.get_visible_ticket(user, payload.target_id)
    except NotFound:
        raise InvalidInput("target_id", f"no ticket with id {payload.target_id}") from None
    with api_field_names({"target": "target_id"}):
        actions.link_tickets(source, target, actor=user, via=Via.API, kind=payload.kind)
    return _detail_response(request, ticket_id, status=201)


@attachment_router.get(
    "/{attachment_id}", response={200: None, **ERRORS}, url_name="attachment_download", summary="Download a file"
)
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = queries.visible_attachment(request_user(request), attachment_id)
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} not found")
    path = attachments.path_for(attachment.sha256)
    if not path.exists():
        raise NotFound(f"the file of attachment {attachment_id} is missing from storage")
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    # A file a stranger uploaded must never render as a page of ours.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
