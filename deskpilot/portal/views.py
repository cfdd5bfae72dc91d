"""Customer portal pages: my requests, one request's conversation (with the reply form), and a
new request. The public request form (no account needed) is in public.py.

Every page reads through tickets.permissions / tickets.queries with the customer's own user, so
a customer sees exactly what the API would show them: their tickets, their organization's when
it shares, and never an internal note.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from deskpilot.accounts.access import customer_required, page_user
from deskpilot.core.errors import InvalidInput, TooLarge
from deskpilot.feedback import queries as feedback_queries
from deskpilot.portal import queries as portal_queries
from deskpilot.portal.forms import ReplyForm, RequestForm, incoming_files
from deskpilot.portal.public import public_request, public_thanks
from deskpilot.tickets import actions, permissions, queries
from deskpilot.tickets.models import Channel, Status, Via


@customer_required
@require_http_methods(["GET"])
def tickets(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    customer = permissions.customer_of(user)
    shared = portal_queries.shares_tickets(customer)
    scope = request.GET.get("scope", "mine")
    if scope not in portal_queries.SCOPES or (scope == "organization" and not shared):
        scope = "mine"
    state = request.GET.get("state", "all")
    if state not in portal_queries.STATES:
        state = "all"
    cursor = request.GET.get("cursor") or None
    try:
        page = portal_queries.portal_tickets(
            user, scope=scope, state=state, cursor=cursor, limit=portal_queries.PAGE_SIZE
        )
    except InvalidInput:
        # A cursor from an old link (or a tampered one): start the list again.
        return redirect(f"{reverse('portal:tickets')}?scope={scope}&state={state}")
    rows = [(ticket, *portal_queries.customer_status(ticket.status)) for ticket in page.tickets]
    context = {
        "rows": rows,
        "next_cursor": page.next_cursor,
        "first_page": cursor is None,
        "scope": scope,
        "state": state,
        "shared": shared,
        "organization": customer.organization if shared and customer else None,
        "states": [("all", "All"), ("open", "Open"), ("solved", "Solved")],
    }
    # htmx asks for the list only (filters and pages swap it in place); a plain request gets the page.
    # (A history restore asks for the whole page.)
    partial = request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")
    template = "portal/_ticket_list.html" if partial else "portal/tickets.html"
    return render(request, template, context)


@customer_required
@require_http_methods(["GET", "POST"])
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = page_user(request)
    # NotFound (someone else's ticket, or none) becomes a 404 in customer_required.
    detail = queries.ticket_detail(user, ticket_id)
    form = ReplyForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                message = actions.add_message(
                    detail.ticket,
                    actor=user,
                    via=Via.WEB,
                    public=True,
                    body_text=form.cleaned_data["body"],
                    attachments=incoming_files(form.cleaned_data["attachments"]),
                )
            except (InvalidInput, TooLarge) as error:
                form.add_errors_from(error)
            else:
                if message.ticket_id != detail.ticket.pk:
                    messages.success(
                        request,
                        f"Request #{detail.ticket.pk} was closed, so your reply started a new request, "
                        f"#{message.ticket_id}, linked to it.",
                    )
                    return redirect("portal:ticket", ticket_id=message.ticket_id)
                messages.success(request, "Your reply was sent.")
                return redirect(f"{reverse('portal:ticket', args=[detail.ticket.pk])}#message-{message.pk}")
        status = 422
    label, badge = portal_queries.customer_status(detail.ticket.status)
    context = {
        "ticket": detail.ticket,
        "messages_list": detail.messages,
        "links": portal_queries.visible_links(user, detail.ticket, detail.links),
        "status_label": label,
        "status_class": badge,
        "closed": detail.ticket.status == Status.CLOSED,
        "solved": detail.ticket.status == Status.SOLVED,
        "awaiting_reply": detail.ticket.status == Status.PENDING,
        "form": form,
        "surveys": feedback_queries.open_surveys(detail.ticket.pk, getattr(permissions.customer_of(user), "pk", None)),
    }
    return render(request, "portal/ticket.html", context, status=status)


@customer_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    customer = permissions.customer_of(user)
    if customer is None:
        raise Http404("no customer record")
    form = RequestForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = actions.create_ticket(
                    actor=user,
                    via=Via.WEB,
                    channel=Channel.PORTAL,
                    requester=customer,
                    subject=form.cleaned_data["subject"],
                    body_text=form.cleaned_data["description"],
                    attachments=incoming_files(form.cleaned_data["attachments"]),
                )
            except (InvalidInput, TooLarge) as error:
                form.add_errors_from(error)
            else:
                messages.success(request, f"Request #{created.pk} received. We will reply here and by email.")
                return redirect("portal:ticket", ticket_id=created.pk)
        status = 422
    return render(request, "portal/new.html", {"form": form}, status=status)


urlpatterns = [
    path("portal/tickets", tickets, name="tickets"),
    path("portal/tickets/<int:ticket_id>", ticket, name="ticket"),
    path("portal/new", new, name="new"),
    path("request", public_request, name="public_request"),
    path("request/thanks", public_thanks, name="public_thanks"),
]
