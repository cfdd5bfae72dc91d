"""The public request form: anyone can ask for help without an account.

Spam protection, cheapest check first: a per-address rate limit (a clear 429 page), a honeypot
field (a filled one "succeeds" without creating anything, so a bot learns nothing), and a signed
timestamp (a form sent within seconds of being shown was not typed by a person; the person is
asked, kindly, to send it again).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from deskpilot.accounts.backends import client_address
from deskpilot.core import ratelimit
from deskpilot.core.errors import InvalidInput, TooLarge
from deskpilot.customers.actions import find_or_create_customer
from deskpilot.portal.forms import MIN_FILL_SECONDS, PublicRequestForm, incoming_files
from deskpilot.tickets import actions
from deskpilot.tickets.models import Channel, Ticket, Via

RATE_SCOPE = "public-request"
HOUR = 3600
# The thank-you page reads what was sent from the session (POST, redirect, GET: a reload never
# sends the request twice).
THANKS_KEY = "portal.public_request"


def _create(form: PublicRequestForm) -> Ticket:
    data = form.cleaned_data
    # One transaction: a ticket the action refuses leaves no customer behind either.
    with transaction.atomic():
        customer = find_or_create_customer(data["email"], data["name"])
        return actions.create_ticket(
            actor=customer,
            via=Via.WEB,
            # DOMAIN/Channel: "web" is the web form, "portal" the signed-in customer portal.
            channel=Channel.WEB,
            requester=customer,
            subject=data["subject"],
            body_text=data["description"],
            attachments=incoming_files(data["attachments"]),
        )


@require_http_methods(["GET", "POST"])
def public_request(request: HttpRequest) -> HttpResponse:
    address = client_address(request)
    limit = settings.PUBLIC_FORM_MAX_PER_HOUR
    if request.method == "POST" and ratelimit.count(RATE_SCOPE, address) >= limit:
        return render(request, "portal/public_limited.html", {"limit": limit}, status=429)
    form = PublicRequestForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_honeypot_filled:
            # Counted like a real request, answered like one, and nothing is stored.
            ratelimit.hit(RATE_SCOPE, address, HOUR)
            request.session[THANKS_KEY] = {"ticket": None, "email": ""}
            return redirect("portal:public_thanks")
        elapsed = form.fill_seconds()
        if form.is_valid():
            if elapsed is None:
                form.add_error(None, "This form was open too long to be sent safely. Please press Send again.")
                form.render_started()
            elif elapsed < MIN_FILL_SECONDS:
                form.add_error(None, "That was quick! Please check your request, then press Send again.")
            else:
                ratelimit.hit(RATE_SCOPE, address, HOUR)
                try:
                    created = _create(form)
                except (InvalidInput, TooLarge) as error:
                    form.add_errors_from(error)
                else:
                    email = form.cleaned_data["email"].lower()
                    request.session[THANKS_KEY] = {"ticket": created.pk, "email": email}
                    return redirect("portal:public_thanks")
        elif elapsed is None:
            form.render_started()
        status = 422
    return render(request, "portal/public_request.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def public_thanks(request: HttpRequest) -> HttpResponse:
    sent = request.session.get(THANKS_KEY)
    if not isinstance(sent, dict):
        return redirect("portal:public_request")
    return render(request, "portal/public_thanks.html", {"number": sent.get("ticket"), "email": sent.get("email", "")})
