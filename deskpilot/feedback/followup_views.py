"""The follow-up queue (/feedback/follow-ups): negative answers someone must call back about,
oldest first, each closed with how it went; the closed ones stay listed as proof. For managers and
admins; a team lead sees theirs marked."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from deskpilot.accounts.access import manager_required, page_user
from deskpilot.core.errors import InvalidInput
from deskpilot.feedback import actions, surveys
from deskpilot.feedback.models import FollowUp, FollowUpOutcome

PAGE_SIZE = 100


def _rows(closed: bool) -> list[FollowUp]:
    rows = FollowUp.objects.select_related(
        "response__invitation__customer",
        "response__invitation__ticket",
        "response__reason",
        "team",
        "owner",
        "closed_by",
    ).filter(closed_at__isnull=not closed)
    # Open ones oldest first (who has waited longest); closed ones latest first.
    rows = rows.order_by("-closed_at", "-id") if closed else rows.order_by("created_at", "id")
    found = list(rows[:PAGE_SIZE])
    for row in found:
        invitation = row.response.invitation
        row.answer_label = surveys.answer_label(invitation.kind, invitation.scale, row.response.score)  # type: ignore[attr-defined]
    return found


@require_GET
@manager_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    closed = request.GET.get("show") == "closed"
    rows = _rows(closed)
    context = {
        "title": "Follow-ups",
        "rows": rows,
        "closed": closed,
        "open_count": FollowUp.objects.filter(closed_at__isnull=True).count(),
        "outcomes": FollowUpOutcome.choices,
        "me": page_user(request),
    }
    return render(request, "feedback/follow_ups.html", context)


def _follow_up(pk: int) -> FollowUp:
    found = FollowUp.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no follow-up {pk}")
    return found


@require_POST
@manager_required
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = _follow_up(pk)
    try:
        actions.close_follow_up(
            follow_up,
            outcome=request.POST.get("outcome") or "",
            notes=request.POST.get("notes") or "",
            actor=page_user(request),
        )
    except InvalidInput as error:
        rows = _rows(False)
        context = {
            "title": "Follow-ups",
            "rows": rows,
            "closed": False,
            "open_count": FollowUp.objects.filter(closed_at__isnull=True).count(),
            "outcomes": FollowUpOutcome.choices,
            "me": page_user(request),
            "errors": error.errors,
            "failed": follow_up.pk,
            "notes": request.POST.get("notes") or "",
        }
        return render(request, "feedback/follow_ups.html", context, status=422)
    messages.success(request, "Follow-up recorded.")
    return redirect("feedback_follow_ups:list")


@require_POST
@manager_required
def follow_up_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    actions.reopen_follow_up(_follow_up(pk))
    messages.success(request, "Follow-up open again.")
    return redirect("feedback_follow_ups:list")
