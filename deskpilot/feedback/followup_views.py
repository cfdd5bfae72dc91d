"""The follow-up queue (/feedback-follow-ups/): negative answers someone must call back about,
oldest first, each closed with how it went; the closed ones stay listed as proof. Managers and
admins see every one; a team lead (an agent leading a team) sees those of their teams and those
opened for them; other agents get a 404, like any page that is not theirs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from deskpilot.accounts.access import agent_required, page_user
from deskpilot.accounts.models import Role, User
from deskpilot.core.errors import InvalidInput, NotFound
from deskpilot.feedback import actions, surveys
from deskpilot.feedback.models import FollowUp, FollowUpOutcome

PAGE_SIZE = 100


def _visible(user: User) -> QuerySet[FollowUp]:
    """The follow-ups ``user`` may see (NotFound, a 404, for an agent who leads no team and owns
    none)."""
    if user.role in (Role.ADMIN, Role.MANAGER):
        return FollowUp.objects.all()
    mine = FollowUp.objects.filter(Q(owner=user) | Q(team__lead=user))
    if not (user.led_teams.exists() or mine.exists()):
        raise NotFound("the follow-ups are for managers and team leads")
    return mine


def _rows(user: User, closed: bool) -> list[FollowUp]:
    rows = (
        _visible(user)
        .select_related(
            "response__invitation__customer",
            "response__invitation__ticket",
            "response__reason",
            "team",
            "owner",
            "closed_by",
        )
        .filter(closed_at__isnull=not closed)
    )
    # Open ones oldest first (who has waited longest); closed ones latest first.
    rows = rows.order_by("-closed_at", "-id") if closed else rows.order_by("created_at", "id")
    found = list(rows[:PAGE_SIZE])
    for row in found:
        invitation = row.response.invitation
        row.answer_label = surveys.answer_label(invitation.kind, invitation.scale, row.response.score)  # type: ignore[attr-defined]
    return found


@require_GET
@agent_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    return _page(request, page_user(request), closed=request.GET.get("show") == "closed")


def _page(request: HttpRequest, user: User, *, closed: bool, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "title": "Follow-ups",
        "rows": _rows(user, closed),
        "closed": closed,
        "open_count": _visible(user).filter(closed_at__isnull=True).count(),
        "outcomes": FollowUpOutcome.choices,
        "me": user,
        **extra,
    }
    return render(request, "feedback/follow_ups.html", context, status=status)


def _follow_up(user: User, pk: int) -> FollowUp:
    found = _visible(user).filter(pk=pk).first()
    if found is None:
        raise Http404(f"no follow-up {pk}")
    return found


@require_POST
@agent_required
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    follow_up = _follow_up(user, pk)
    try:
        actions.close_follow_up(
            follow_up,
            outcome=request.POST.get("outcome") or "",
            notes=request.POST.get("notes") or "",
            actor=user,
        )
    except InvalidInput as error:
        notes = request.POST.get("notes") or ""
        return _page(request, user, closed=False, status=422, errors=error.errors, failed=follow_up.pk, notes=notes)
    messages.success(request, "Follow-up recorded.")
    return redirect("feedback_follow_ups:list")


@require_POST
@agent_required
def follow_up_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    actions.reopen_follow_up(_follow_up(page_user(request), pk))
    messages.success(request, "Follow-up open again.")
    return redirect("feedback_follow_ups:list")
