"""Pages of the email channel for agents: retrying a mail that failed to go out."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import agent_required, page_user
from deskpilot.core.errors import NotFound
from deskpilot.mail.models import DeliveryStatus, OutboundMail
from deskpilot.tickets import permissions


@agent_required
@require_POST
def outbound_retry(request: HttpRequest, outbound_id: int) -> HttpResponse:
    """Queue a failed mail again, for a fresh round of attempts (the old answer stays shown until
    the next attempt replaces it)."""
    user = page_user(request)
    mail = OutboundMail.objects.filter(pk=outbound_id).first()
    if mail is None or mail.ticket_id is None:
        raise NotFound(f"outgoing mail {outbound_id} not found")
    permissions.get_visible_ticket(user, mail.ticket_id)
    retried = OutboundMail.objects.filter(pk=mail.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
    )
    if retried:
        from deskpilot.mail.outbound import enqueue

        transaction.on_commit(lambda: enqueue(mail.pk))
        messages.success(request, f"Sending the email to {', '.join(mail.to)} again.")
    else:
        messages.info(request, "That email is not failed; nothing to retry.")
    anchor = f"#message-{mail.message_id}" if mail.message_id else ""
    return redirect(reverse("tickets:ticket", args=[mail.ticket_id]) + anchor)
