"""The Insights page (/analytics/insights): what customers write about, as themes with their
weekly trend and how unusual this week is, new themes, examples, and the drivers (themes ranked by
what they cost in CSAT and resolution time); each theme opens its tickets. Managers and admins."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from deskpilot.accounts.access import manager_required
from deskpilot.feedback import voice
from deskpilot.feedback.insights import sentiment
from deskpilot.feedback.models import TextInsight, Theme, ThemeRun

TICKETS_PAGE = 100


@require_GET
@manager_required
def insights_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    trends = voice.trends(now)
    peak = max((max(t.weekly) for t in trends), default=0) or 1
    context: dict[str, Any] = {
        "title": "Insights",
        "run": ThemeRun.objects.order_by("-created_at", "-id").first(),
        # Each theme with its sparkline's bar heights (0-100 % of the busiest week of any theme).
        "trends": [(t, [round(100 * n / peak) for n in t.weekly]) for t in trends],
        "drivers": voice.drivers(now)[:10],
        "frustrated": TextInsight.objects.filter(
            at__gte=now - voice.WEEK, sentiment_score__lte=sentiment.FRUSTRATED_TO, message__isnull=False
        ).count(),
    }
    return render(request, "feedback/insights.html", context)


@require_GET
@manager_required
def theme_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    """The latest texts of one theme, with their tickets and sentiment."""
    theme = Theme.objects.filter(pk=pk).first()
    if theme is None:
        raise Http404(f"no theme {pk}")
    rows = list(
        TextInsight.objects.filter(theme=theme)
        .select_related("message", "response", "ticket")
        .order_by("-at", "-id")[:TICKETS_PAGE]
    )
    context = {"title": f"Theme: {theme.label}", "theme": theme, "rows": rows}
    return render(request, "feedback/theme.html", context)
