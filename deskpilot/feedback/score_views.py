"""The survey scores page (/analytics/feedback) and the answers behind each figure
(/analytics/feedback/answers), for managers and admins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from deskpilot.accounts.access import manager_required
from deskpilot.analytics.performance import Filters
from deskpilot.core.errors import InvalidInput
from deskpilot.feedback import reporting, surveys
from deskpilot.feedback.models import SurveyKind

BY_CHOICES = [("team", "Team"), ("agent", "Agent"), ("channel", "Channel"), ("organization", "Organization")]
ANSWERS_PAGE = 100


def _parse(request: HttpRequest) -> tuple[Filters | None, str, dict[str, str]]:
    errors: dict[str, str] = {}
    filters = None
    try:
        filters = Filters.parse(request.GET)
    except InvalidInput as error:
        errors.update(error.errors)
    by = (request.GET.get("by") or "team").strip()
    if by not in reporting.BREAKDOWNS:
        errors["by"] = f"{by!r} is not one of: {', '.join(reporting.BREAKDOWNS)}"
    return filters, by, errors


def answers_url(filters: Filters, kind: str, by: str | None = None, key: Any = None) -> str:
    """The answers behind a score: of ``kind``, in the filters' period, of one key of ``by``."""
    params = {"from": filters.start.isoformat(), "to": filters.end.isoformat(), "kind": kind}
    if by is not None:
        params.update({"by": by, "key": "none" if key in (None, "") else str(key)})
    return f"{reverse('feedback_scores:answers')}?{urlencode(params)}"


@require_GET
@manager_required
def scores_page(request: HttpRequest) -> HttpResponse:
    filters, by, errors = _parse(request)
    context: dict[str, Any] = {
        "title": "Customer feedback",
        "errors": errors,
        "by_choices": BY_CHOICES,
        "by": by,
        # The dates as typed (kept when one is refused), else the period shown.
        "form_from": request.GET.get("from") or (filters.start.isoformat() if filters else ""),
        "form_to": request.GET.get("to") or (filters.end.isoformat() if filters else ""),
    }
    if errors or filters is None:
        return render(request, "feedback/scores.html", context, status=422)
    overall = reporting.score_table(filters.start, filters.end)
    total = overall[0] if overall else None
    rows = reporting.score_table(filters.start, filters.end, by)
    links = {(row.key, kind): answers_url(filters, kind, by, row.key) for row in rows for kind in SurveyKind.values}
    context.update(
        {
            "filters": filters,
            "total": total,
            "rows": [(row, {kind: links[(row.key, kind)] for kind in SurveyKind.values}) for row in rows],
            "total_links": {kind: answers_url(filters, kind) for kind in SurveyKind.values},
            "by_label": dict(BY_CHOICES)[by],
        }
    )
    return render(request, "feedback/scores.html", context)


@require_GET
@manager_required
def answers_page(request: HttpRequest) -> HttpResponse:
    filters, _, errors = _parse(request)
    kind = (request.GET.get("kind") or "").strip()
    if kind not in SurveyKind.values:
        errors["kind"] = f"{kind!r} is not one of: {', '.join(SurveyKind.values)}" if kind else "is required"
    by = request.GET.get("by") or None
    key: Any = None
    if by is not None:
        raw = (request.GET.get("key") or "").strip()
        if raw and raw != "none" and by != "channel" and not raw.isdigit():
            errors["key"] = f"{raw!r} is not an id (or none)"
        key = None if raw in ("", "none") else (raw if by == "channel" else int(raw) if raw.isdigit() else None)
    context: dict[str, Any] = {"title": "Survey answers", "errors": errors}
    if errors or filters is None:
        return render(request, "feedback/answers.html", context, status=422)
    found = reporting.responses(filters.start, filters.end, kind=kind, by=by, key=key)
    rows = list(found[: ANSWERS_PAGE + 1])
    for row in rows:
        invitation = row.invitation
        row.answer_label = surveys.answer_label(invitation.kind, invitation.scale, row.score)  # type: ignore[attr-defined]
    context.update(
        {
            "filters": filters,
            "kind_label": SurveyKind(kind).label,
            "rows": rows[:ANSWERS_PAGE],
            "more": len(rows) > ANSWERS_PAGE,
            "back": f"?{urlencode({'from': filters.start.isoformat(), 'to': filters.end.isoformat()})}",
        }
    )
    return render(request, "feedback/answers.html", context)
