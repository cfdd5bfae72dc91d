"""Customer feedback for BI tools: /api/v1/feedback/scores (a period's CSAT, NPS, CES and response
rates, in total or per team, agent, channel or organization), /api/v1/feedback/answers (the
answers themselves, with comments) and /api/v1/feedback/themes (the voice-of-customer themes
with their trends and drivers). Managers and admins only, like every metric."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router

from deskpilot.analytics.api import ERRORS, _json, _require_manager
from deskpilot.analytics.performance import Filters
from deskpilot.core.api_support import request_user
from deskpilot.core.errors import InvalidInput
from deskpilot.feedback import reporting, voice
from deskpilot.feedback.models import SurveyKind

router = Router(tags=["feedback"])
ANSWERS_LIMIT = 1000


def _period(start: str | None, end: str | None) -> Filters:
    return Filters.parse({k: v for k, v in {"from": start, "to": end}.items() if v is not None})


def _row(row: reporting.Scores) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": row.label,
        "csat": row.csat.score,
        "csat_good": row.csat.good,
        "csat_bad": row.csat.bad,
        "nps": row.nps.score,
        "nps_promoters": row.nps.promoters,
        "nps_passives": row.nps.passives,
        "nps_detractors": row.nps.detractors,
        "ces": row.ces,
        "sent": {kind: row.sent.get(kind, 0) for kind in SurveyKind.values},
        "answered": row.answered,
        "response_rate": {kind: row.response_rate(kind) for kind in SurveyKind.values},
    }


@router.get("/scores", response={200: dict[str, Any], **ERRORS}, summary="Survey scores of a period")
def scores(
    request: HttpRequest,
    start: str | None = Query(None, alias="from", description="first UTC day (YYYY-MM-DD); default: 30 days ago"),
    end: str | None = Query(None, alias="to", description="last UTC day, included; default: today"),
    by: str | None = Query(None, description="team, agent, channel or organization; none: the total"),
) -> HttpResponse:
    """Scores of the surveys sent in the period (an answer belongs to the period its survey was
    sent in); ``key`` null is no team, unassigned or no organization."""
    _require_manager(request_user(request))
    if by is not None and by not in reporting.BREAKDOWNS:
        raise InvalidInput("by", f"{by!r} is not one of: {', '.join(reporting.BREAKDOWNS)}")
    period = _period(start, end)
    items = [_row(row) for row in reporting.score_table(period.start, period.end, by)]
    return _json({"from": period.start, "to": period.end, "by": by, "items": items})


@router.get("/answers", response={200: dict[str, Any], **ERRORS}, summary="Survey answers of a period")
def answers(
    request: HttpRequest,
    kind: str = Query(..., description="csat, ces or nps"),
    start: str | None = Query(None, alias="from", description="first UTC day (YYYY-MM-DD); default: 30 days ago"),
    end: str | None = Query(None, alias="to", description="last UTC day, included; default: today"),
) -> HttpResponse:
    """The answers to the period's surveys of ``kind``, latest first (at most 1,000)."""
    _require_manager(request_user(request))
    if kind not in SurveyKind.values:
        raise InvalidInput("kind", f"{kind!r} is not one of: {', '.join(SurveyKind.values)}")
    period = _period(start, end)
    found = reporting.responses(period.start, period.end, kind=kind)[:ANSWERS_LIMIT]
    items = [
        {
            "id": row.pk,
            "answered_at": row.answered_at,
            "score": row.score,
            "scale": row.invitation.scale if kind == SurveyKind.CSAT else kind,
            "comment": row.comment,
            "reason": row.reason.label if row.reason else None,
            "ticket": row.invitation.ticket_id,
            "customer": row.invitation.customer_id,
            "team": row.invitation.team_id,
            "agent": row.invitation.agent_id,
            "channel": row.invitation.channel,
            "organization": row.invitation.organization_id,
        }
        for row in found
    ]
    return _json({"from": period.start, "to": period.end, "kind": kind, "items": items})


@router.get("/themes", response={200: dict[str, Any], **ERRORS}, summary="Voice-of-customer themes and drivers")
def themes(request: HttpRequest) -> HttpResponse:
    """The active themes with their weekly counts (8 weeks, oldest first), change and how unusual
    this week is, and the drivers (what each costs in CSAT and resolution time, 90 days)."""
    _require_manager(request_user(request))
    now = timezone.now()
    found = voice.drivers(now)
    by_theme = {driver.theme.pk: driver for driver in found}
    items = []
    for trend in voice.trends(now):
        driver = by_theme.get(trend.theme.pk)
        items.append(
            {
                "number": trend.theme.number,
                "label": trend.theme.label,
                "keywords": trend.theme.keywords,
                "examples": trend.theme.examples,
                "weekly": trend.weekly,
                "change": trend.change,
                "unusual": round(trend.unusual, 2),
                "new": trend.new,
                "negative_share": trend.negative_share,
                "tickets_90d": driver.tickets if driver else 0,
                "csat_90d": driver.csat if driver else None,
                "csat_gap": driver.csat_gap if driver else None,
                "resolution_median_business_seconds": driver.resolution_median if driver else None,
                "impact": driver.impact if driver else 0.0,
            }
        )
    return _json({"items": items})
