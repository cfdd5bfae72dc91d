"""The KPI target pages in the page permission matrix (tests/test_page_permissions.py):
managers' and admins' only, like every manager page."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from deskpilot.analytics.models import KpiTarget, TargetDirection
from tests.page_matrix import Route, World, manager_page


def _target() -> KpiTarget:
    """A desk-wide CSAT target (made on first use in a test)."""
    existing = KpiTarget.objects.order_by("id").first()
    if existing is not None:
        return existing
    return KpiTarget.objects.create(kpi="csat", threshold=90, at_risk_band=2, direction=TargetDirection.AT_LEAST)


def _state() -> object:
    """What a refused target form must leave alone: every target as it was."""
    return sorted(
        KpiTarget.objects.values_list("pk", "kpi", "team_id", "agent_id", "threshold", "at_risk_band", "notes")
    )


def _url(name: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(f"targets:{name}", args=[_target().pk])

    return url


PAGES: dict[str, Route] = {
    "targets:list": Route(lambda w: reverse("targets:list"), manager_page()),
    "targets:new": Route(lambda w: reverse("targets:new"), manager_page()),
    "targets:edit": Route(_url("edit"), manager_page()),
}

FORMS: dict[str, Route] = {
    "targets:new": Route(lambda w: reverse("targets:new"), manager_page(), state=_state),
    "targets:edit": Route(_url("edit"), manager_page(), state=_state),
    "targets:delete": Route(_url("delete"), manager_page(), state=_state),
}
