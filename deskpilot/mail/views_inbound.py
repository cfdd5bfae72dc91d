"""Pages of received mail: the full original of a message (one click from the conversation), its
raw .eml, and for admins and managers the failed mail and spam lists with Retry / Not spam.

Who may see an original: agents, managers and admins, and collaborators for tickets they may see
(assigned or following). Customers never (404): the original can carry internal addresses and
headers. Mail not attached to a ticket (failed, spam, a bounce about nothing) is for agents only.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from deskpilot.accounts.access import manager_required, page_user, staff_required
from deskpilot.accounts.models import AGENT_ROLES, User
from deskpilot.core.html import sanitize_html
from deskpilot.mail import (
    intake,
    intake_tasks,  # noqa: F401  (registers the inbound jobs in web processes too)
    parsing,
)
from deskpilot.mail import raw as raw_store
from deskpilot.mail.models import InboundMail, InboundStatus
from deskpilot.tickets import permissions

# The failed mail and spam lists: the help desk's configuration, like the Django admin.
LIST_LIMIT = 200
RETRY_ALL_LIMIT = 500


def _visible_inbound(user: User, inbound_id: int) -> InboundMail:
    inbound = InboundMail.objects.select_related("ticket", "mailbox").filter(pk=inbound_id).first()
    if inbound is None:
        raise Http404("email not found")
    if user.role in AGENT_ROLES:
        return inbound
    # Collaborators: only the mail of tickets they may see.
    if inbound.ticket_id is None or not permissions.can_view(user, inbound.ticket):  # type: ignore[arg-type]
        raise Http404("email not found")
    return inbound


@dataclass
class _Original:
    headers: list[tuple[str, str]]
    text: str
    html: str
    attachments: list[parsing.ParsedAttachment]
    defects: list[str]
    error: str = ""


def _original(raw: bytes) -> _Original:
    parser = email.parser.BytesParser(policy=email.policy.default)
    headers: list[tuple[str, str]] = []
    try:
        head = parser.parsebytes(raw, headersonly=True)
        for name, value in head.items():
            try:
                headers.append((name, " ".join(str(value).split())))
            except Exception:  # a header the policy cannot decode: show it as received
                headers.append((name, str(head.get(name, ""))))
    except Exception as error:
        headers.append(("(unreadable headers)", str(error)))
    try:
        parsed = parsing.parse(raw)
    except Exception as error:  # the failed mail list links here: show what we have
        return _Original(headers, raw.decode("utf-8", "replace"), "", [], [], error=f"{type(error).__name__}: {error}")
    return _Original(headers, parsed.text, sanitize_html(parsed.html), parsed.attachments, parsed.defects)


@staff_required
@require_GET
def inbound_detail(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = _visible_inbound(page_user(request), inbound_id)
    try:
        raw = raw_store.read(inbound.raw_sha256)
    except FileNotFoundError:
        raw = b""
    original = _original(raw) if raw else None
    context = {
        "title": f"Original email: {inbound.subject or '(no subject)'}",
        "inbound": inbound,
        "original": original,
    }
    return render(request, "mail/inbound_detail.html", context)


@staff_required
@require_GET
def inbound_raw(request: HttpRequest, inbound_id: int) -> HttpResponse:
    inbound = _visible_inbound(page_user(request), inbound_id)
    try:
        raw = raw_store.read(inbound.raw_sha256)
    except FileNotFoundError:
        raise Http404("the stored email is missing") from None
    response = HttpResponse(raw, content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="email-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _status_list(request: HttpRequest, status: str, template: str, title: str) -> HttpResponse:
    """The newest LIST_LIMIT received messages with ``status``, and how many there are."""
    rows = InboundMail.objects.filter(status=status).select_related("mailbox").order_by("-received_at")
    context = {"title": title, "rows": list(rows[:LIST_LIMIT]), "total": rows.count(), "limit": LIST_LIMIT}
    return render(request, template, context)


@manager_required
@require_GET
def failed_list(request: HttpRequest) -> HttpResponse:
    return _status_list(request, InboundStatus.FAILED, "mail/failed.html", "Failed email")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def failed_retry(request: HttpRequest, inbound_id: int) -> HttpResponse:
    row = InboundMail.objects.filter(pk=inbound_id, status=InboundStatus.FAILED).first()
    if row is None:
        messages.info(request, "That email is not in the failed list (any more); nothing to retry.")
        return redirect("mail_inbound:failed")
    result = intake.process(row)
    _report(request, [result])
    return redirect("mail_inbound:failed")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def failed_retry_all(request: HttpRequest) -> HttpResponse:
    ids = list(
        InboundMail.objects.filter(status=InboundStatus.FAILED)
        .order_by("received_at", "id")
        .values_list("pk", flat=True)[:RETRY_ALL_LIMIT]
    )
    if not ids:
        messages.info(request, "No failed email to retry.")
        return redirect("mail_inbound:failed")
    _report(request, intake.retry(ids))
    return redirect("mail_inbound:failed")


def _report(request: HttpRequest, results: list[InboundMail]) -> None:
    still = [r for r in results if r.status == InboundStatus.FAILED]
    done = len(results) - len(still)
    if done:
        messages.success(request, f"{done} email(s) processed.")
    if still:
        messages.error(request, f"{len(still)} email(s) still fail: {still[0].error.splitlines()[0]}")


@manager_required
@require_GET
def spam_list(request: HttpRequest) -> HttpResponse:
    return _status_list(request, InboundStatus.SPAM, "mail/spam.html", "Spam")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def spam_release(request: HttpRequest, inbound_id: int) -> HttpResponse:
    """Not spam: process the message as a person's mail."""
    row = InboundMail.objects.filter(pk=inbound_id, status=InboundStatus.SPAM).first()
    if row is None:
        messages.info(request, "That email is not in the spam list (any more).")
        return redirect("mail_inbound:spam")
    result = intake.process(row, not_spam=True)
    if result.status == InboundStatus.FAILED:
        messages.error(request, f"The email could not be processed; it is in the failed list: {result.error[:200]}")
    elif result.ticket_id:
        messages.success(request, f"Processed as normal email: ticket #{result.ticket_id}.")
        return redirect(reverse("tickets:ticket", args=[result.ticket_id]))
    else:
        messages.success(request, "Processed as normal email.")
    return redirect("mail_inbound:spam")
