"""The agent's ticket page: the conversation, the reply composer, the side panel (fields), the
requester panel, links, merge and the full history.

Every form works as a plain POST that redirects back to the page (PRG). With htmx the same POST
answers with the page's body only (``#ticket-body``), so a reply or an update swaps in place.
Invalid input answers 422 (a stale update 409) with the page, the errors next to the fields and
what the person typed kept.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import page_user, staff_required
from deskpilot.accounts.models import AGENT_ROLES, User
from deskpilot.core.errors import InvalidInput, NotFound, StaleVersion, TooLarge
from deskpilot.mail.presentation import attach_mail_info
from deskpilot.policies import sla
from deskpilot.tickets import actions, page_queries, permissions, queries
from deskpilot.tickets.models import LinkKind, Ticket, TicketLink, Via
from deskpilot.tickets.ticket_forms import INTERNAL, EscalationForm, MergeForm, ReplyForm, TicketUpdateForm

STALE = "Someone else changed this ticket; here is the latest. Check the fields and save again."
# How a link reads from the other end ("#12 is a follow-up of this ticket").
INCOMING_LINK_LABELS = {
    LinkKind.RELATED: "Related",
    LinkKind.FOLLOW_UP: "Follow-up",
    LinkKind.MERGED_INTO: "Merged into this",
    LinkKind.SPLIT_FROM: "Split off",
    LinkKind.DUPLICATE_OF: "Duplicate",
}


def _links(user: User, ticket: Ticket, links: list[TicketLink]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for link in links:
        if link.source_id == ticket.pk:
            rows.append({"label": LinkKind(link.kind).label, "ticket": link.target})
        else:
            rows.append({"label": INCOMING_LINK_LABELS.get(LinkKind(link.kind), link.kind), "ticket": link.source})
    if rows and user.role not in AGENT_ROLES:
        # A collaborator sees only the linked tickets they may open: a link must not show the
        # subject and status of a ticket that is none of their business (one query).
        others = [row["ticket"].pk for row in rows]
        visible = set(permissions.visible_tickets(user).filter(pk__in=others).values_list("pk", flat=True))
        rows = [row for row in rows if row["ticket"].pk in visible]
    return rows


def _local_time(zone_name: str) -> str:
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return ""
    return timezone.localtime(timezone=zone).strftime("%a %H:%M")


def _render(
    request: HttpRequest,
    user: User,
    ticket_id: int,
    *,
    status: int = 200,
    reply_form: ReplyForm | None = None,
    update_form: TicketUpdateForm | None = None,
    merge_form: MergeForm | None = None,
    escalation_form: EscalationForm | None = None,
    stale: bool = False,
    notice: str = "",
) -> HttpResponse:
    """The page (or, for htmx, its body) with fresh data; the forms given keep what was typed."""
    detail = queries.ticket_detail(user, ticket_id)
    ticket = detail.ticket
    attach_mail_info(detail.messages)
    is_agent = user.role in AGENT_ROLES
    is_open = permissions.is_open_for_changes(ticket)
    problems: list[str] = []
    if not is_open:
        # Closed meanwhile (or merged away): no forms any more; what was refused is said on top.
        for form in (reply_form, update_form, merge_form):
            if form is not None and form.is_bound:
                problems += [str(e) for errors in form.errors.values() for e in errors]
        reply_form = update_form = merge_form = None
    tags = list(ticket.tags.all())
    custom_fields = page_queries.custom_field_definitions()
    staff = None
    if is_agent and is_open:
        staff = page_queries.staff_choices(ticket)
        if update_form is None or stale:
            update_form = TicketUpdateForm(
                ticket=ticket, staff=staff, custom_fields=custom_fields, tag_names=[t.name for t in tags]
            )
    if is_open and reply_form is None:
        reply_form = ReplyForm(user=user, ticket=ticket)
    if is_agent and is_open and merge_form is None:
        merge_form = MergeForm()
    if is_agent and is_open and escalation_form is None:
        escalation_form = EscalationForm(current=ticket.escalation)
    if not is_agent or not is_open:
        escalation_form = None
    events = queries.ticket_events(user, ticket)
    followers = list(ticket.followers.all())
    ccs = list(ticket.ccs.all())
    known_users = [*(staff.agents if staff else []), *followers, *(e.actor_user for e in events if e.actor_user)]
    if ticket.assignee:
        known_users.append(ticket.assignee)
    names = page_queries.event_names(
        events,
        users=known_users,
        teams=staff.teams if staff else ([ticket.team] if ticket.team else []),
        customers=[ticket.requester, *ccs],
        organizations=[ticket.organization] if ticket.organization else [],
        custom_fields=custom_fields,
    )
    values = ticket.custom_fields or {}
    context = {
        "ticket": ticket,
        "conversation": detail.messages,
        "tags": tags,
        "ccs": ccs,
        "followers": followers,
        "links": _links(user, ticket, detail.links),
        "events": events,
        "names": names,
        "requester": ticket.requester,
        "requester_organization": page_queries.requester_organization(ticket),
        "requester_local_time": _local_time(ticket.requester.time_zone),
        "other_tickets": page_queries.other_tickets(user, ticket),
        "custom_values": [(f.label, values.get(f.key)) for f in custom_fields if f.key in values],
        "is_agent": is_agent,
        "is_open": is_open,
        "reply_form": reply_form,
        "update_form": update_form,
        "merge_form": merge_form,
        "escalation_form": escalation_form,
        "sla": sla.clocks_now(ticket) if user.role in AGENT_ROLES else None,
        "notice": notice,
        "problems": problems,
        "stale": STALE if stale else "",
    }
    template = "tickets/_ticket_body.html" if request.htmx else "tickets/ticket.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


def _done(request: HttpRequest, user: User, ticket_id: int, notice: str, *, anchor: str = "") -> HttpResponse:
    """After a change: htmx gets the fresh body in place, a plain form a redirect (PRG)."""
    if request.htmx:  # type: ignore[attr-defined]
        return _render(request, user, ticket_id, notice=notice)
    messages.success(request, notice)
    return redirect(reverse("tickets:ticket", args=[ticket_id]) + anchor)


@staff_required
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render(request, page_user(request), ticket_id)


@staff_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = page_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    form = ReplyForm(request.POST, request.FILES, user=user, ticket=ticket)
    if form.is_valid():
        try:
            message = actions.add_message(
                ticket,
                actor=user,
                via=Via.WEB,
                body_text=form.cleaned_data["body"],
                public=form.public,
                status=form.cleaned_data.get("status") or None,
                attachments=form.incoming_files(),
            )
        except TooLarge as error:
            form.add_error("attachments", str(error).partition(": ")[2] or str(error))
        except InvalidInput as error:
            form.add_action_error(error, {"ticket": "body"})
        else:
            notice = "Internal note added." if form.cleaned_data["kind"] == INTERNAL else "Reply sent."
            return _done(request, user, ticket_id, notice, anchor=f"#message-{message.pk}")
    return _render(request, user, ticket_id, status=422, reply_form=form)


@staff_required
@require_POST
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = page_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id, queries.list_base(user))
    permissions.require_can_update(user, ticket)
    staff = page_queries.staff_choices(ticket)
    tag_names = list(ticket.tags.values_list("name", flat=True))
    form = TicketUpdateForm(
        request.POST,
        ticket=ticket,
        staff=staff,
        custom_fields=page_queries.custom_field_definitions(),
        tag_names=tag_names,
    )
    if form.is_valid():
        changes = form.changes()
        if not changes and form.cleaned_data["expected_version"] == ticket.version:
            return _done(request, user, ticket_id, "Nothing to change.")
        try:
            actions.update_ticket(
                ticket,
                actor=user,
                via=Via.WEB,
                changes=changes,
                expected_version=form.cleaned_data["expected_version"],
            )
        except StaleVersion:
            return _render(request, user, ticket_id, status=409, stale=True)
        except InvalidInput as error:
            form.add_action_error(error, form.field_map())
        else:
            return _done(request, user, ticket_id, "Ticket updated.")
    return _render(request, user, ticket_id, status=422, update_form=form)


@staff_required
@require_POST
def ticket_merge(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = page_user(request)
    source = permissions.get_visible_ticket(user, ticket_id)
    permissions.require_agent(user)
    form = MergeForm(request.POST)
    if form.is_valid():
        number = form.cleaned_data["into"]
        try:
            target = permissions.get_visible_ticket(user, number)
        except NotFound:
            form.add_error("into", f"There is no ticket #{number}.")
        else:
            try:
                actions.merge_tickets(source, target, actor=user, via=Via.WEB)
            except InvalidInput as error:
                form.add_action_error(error, {"target": "into", "source": "into"})
            else:
                messages.success(request, f"Ticket #{source.pk} was merged into this ticket.")
                return redirect("tickets:ticket", ticket_id=target.pk)
    return _render(request, user, ticket_id, status=422, merge_form=form)


@staff_required
@require_POST
def ticket_escalate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = page_user(request)
    ticket = permissions.get_visible_ticket(user, ticket_id)
    permissions.require_agent(user)
    form = EscalationForm(request.POST, current=ticket.escalation)
    if form.is_valid():
        level = form.cleaned_data["level"] or None
        try:
            actions.set_escalation(ticket, actor=user, via=Via.WEB, level=level, reason=form.cleaned_data["reason"])
        except InvalidInput as error:
            form.add_action_error(error, {"ticket": "level"})
        else:
            return _done(request, user, ticket_id, "Escalated." if level else "De-escalated to tier 1.")
    return _render(request, user, ticket_id, status=422, escalation_form=form)


urlpatterns = [
    path("tickets/<int:ticket_id>", ticket, name="ticket"),
    path("tickets/<int:ticket_id>/reply", ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/update", ticket_update, name="ticket_update"),
    path("tickets/<int:ticket_id>/merge", ticket_merge, name="ticket_merge"),
    path("tickets/<int:ticket_id>/escalate", ticket_escalate, name="ticket_escalate"),
]
