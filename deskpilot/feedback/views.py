"""The customer's survey pages, reached from the e-mail's links without signing in: the survey
(its question and answer buttons, then a comment and, for a negative answer, a reason), the
one-click answer, and unsubscribing.

A link that was edited gets a friendly "not found" page; one past its expiry a friendly "closed"
page; never an error page. A one-click link records its answer by a form the page submits at once
(so a mail scanner that follows every link of a message does not answer for the customer), with a
button for browsers without script.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from deskpilot.core.errors import InvalidInput
from deskpilot.feedback import actions, links, scores, surveys
from deskpilot.feedback.models import Invitation, InvitationStatus, ResponseVia, SurveyResponse

# Search engines and link previews have no business on these pages.
_NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}


def _invitation(token: str) -> Invitation | None:
    found = links.invitation_id(token)
    if found is None:
        return None
    return (
        Invitation.objects.select_related("survey", "ticket", "customer")
        .filter(pk=found, status=InvitationStatus.SENT)
        .first()
    )


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    for name, value in _NOINDEX.items():
        response[name] = value
    return response


def _unavailable(request: HttpRequest, invitation: Invitation | None) -> HttpResponse | None:
    """The friendly page for a link that is not ours (404) or has expired (410), else None."""
    if invitation is None:
        return _page(request, "feedback/unavailable.html", {"title": "Survey not found", "expired": False}, 404)
    if invitation.expires_at is not None and timezone.now() >= invitation.expires_at:
        return _page(request, "feedback/unavailable.html", {"title": "This survey has closed", "expired": True}, 410)
    return None


def _context(invitation: Invitation, token: str, response: SurveyResponse | None) -> dict[str, Any]:
    survey = invitation.survey
    kind, scale = invitation.kind, invitation.scale
    negative = response is not None and scores.is_negative(kind, scale, response.score)
    low, high = surveys.scale_ends(kind, scale)
    return {
        "title": survey.name if survey else "Survey",
        "token": token,
        "invitation": invitation,
        "survey": survey,
        "question": survey.question if survey else "",
        "options": [(value, surveys.answer_label(kind, scale, value)) for value in invitation.values],
        "low": low,
        "high": high,
        "response": response,
        "answer_label": surveys.answer_label(kind, scale, response.score) if response else "",
        "negative": negative,
        "reasons": actions.reasons_for(kind) if negative else [],
    }


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the question (and, once answered, the answer with a comment form). POST: the
    comment and reason."""
    invitation = _invitation(token)
    closed = _unavailable(request, invitation)
    if closed is not None:
        return closed
    assert invitation is not None
    response = SurveyResponse.objects.filter(invitation=invitation).select_related("reason").first()
    context = _context(invitation, token, response)
    if request.method == "POST":
        raw_reason = (request.POST.get("reason") or "").strip()
        errors: dict[str, str] = {}
        if raw_reason and not raw_reason.isdigit():
            errors["reason"] = "is not one of the reasons offered"
        else:
            try:
                actions.add_comment(
                    invitation,
                    comment=request.POST.get("comment") or "",
                    reason_id=int(raw_reason) if raw_reason else None,
                )
            except InvalidInput as error:
                errors = error.errors
            except actions.LinkExpired:
                return _unavailable(request, invitation) or redirect("feedback:survey", token=token)
        if errors:
            context.update({"errors": errors, "comment": request.POST.get("comment") or ""})
            return _page(request, "feedback/survey.html", context, 422)
        return redirect(f"{request.path}?saved=1")
    context["saved"] = request.GET.get("saved") == "1"
    return _page(request, "feedback/survey.html", context)


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str, score: int) -> HttpResponse:
    """GET (the e-mail's button): a page that records the answer by submitting itself. POST:
    record it (again: it replaces the earlier answer), then the survey page."""
    invitation = _invitation(token)
    closed = _unavailable(request, invitation)
    if closed is not None:
        return closed
    assert invitation is not None
    if score not in invitation.values:
        context = _context(invitation, token, SurveyResponse.objects.filter(invitation=invitation).first())
        context["errors"] = {"score": f"{score} is not an answer to this survey"}
        return _page(request, "feedback/survey.html", context, 422)
    if request.method == "GET":
        label = surveys.answer_label(invitation.kind, invitation.scale, score)
        return _page(request, "feedback/answer.html", {"title": "Saving your answer", "label": label, "score": score})
    try:
        via = ResponseVia.PORTAL if request.POST.get("via") == "portal" else ResponseVia.EMAIL
        actions.record_answer(invitation, score, via=via)
    except actions.LinkExpired:
        return _unavailable(request, invitation) or redirect("feedback:survey", token=token)
    return redirect("feedback:survey", token=token)


# No CSRF check: the signed token in the URL is the authority (nobody can forge another
# customer's), and a mail provider's one-click unsubscribe (RFC 8058) POSTs without a session.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what unsubscribing means; POST: no more surveys, from the page's button or from the
    mail provider's unsubscribe button (the mail's List-Unsubscribe header, body
    ``List-Unsubscribe=One-Click``). Works after the survey closed too: nobody should have to
    keep getting mail because a link is old."""
    found = links.invitation_id(token)
    invitation = Invitation.objects.select_related("customer").filter(pk=found).first() if found is not None else None
    if invitation is None:
        return _page(request, "feedback/unavailable.html", {"title": "Survey not found", "expired": False}, 404)
    done = False
    if request.method == "POST":
        actions.unsubscribe(invitation.customer, via=ResponseVia.EMAIL)
        done = True
    return _page(request, "feedback/unsubscribe.html", {"title": "No more surveys", "done": done})
