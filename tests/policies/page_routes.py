"""The managers' policy pages in the page permission matrix: SLA policies, escalation policies,
business-hours calendars and calendar assignments (managers and admins only)."""

from __future__ import annotations

from django.urls import reverse

from deskpilot.policies.models import (
    BusinessCalendar,
    DefaultCalendar,
    EscalationPolicy,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from tests.page_matrix import Route, World, manager_page


def _sla_policy(world: World | None = None) -> int:
    """An SLA policy with a target (made on first use in a test)."""
    existing = SlaPolicy.objects.order_by("id").first()
    if existing is not None:
        return existing.pk
    policy = SlaPolicy.objects.create(name="Matrix policy", priorities=["urgent"])
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="urgent", minutes=30)
    return policy.pk


def _escalation(world: World | None = None) -> int:
    existing = EscalationPolicy.objects.order_by("id").first()
    if existing is not None:
        return existing.pk
    return EscalationPolicy.objects.create(name="Matrix escalation").pk


def _calendar(world: World | None = None) -> int:
    existing = BusinessCalendar.objects.order_by("id").first()
    if existing is not None:
        return existing.pk
    return BusinessCalendar.objects.create(name="Matrix hours").pk


def _state() -> object:
    """What a refused policy form must leave alone: every policy, target, calendar and assignment."""
    return (
        SlaPolicy.objects.count(),
        list(SlaPolicy.objects.order_by("pk").values_list("pk", "position", "active", "updated_at")),
        list(SlaTarget.objects.order_by("pk").values_list("pk", "minutes", "business_hours")),
        list(EscalationPolicy.objects.order_by("pk").values_list("pk", "updated_at")),
        list(BusinessCalendar.objects.order_by("pk").values_list("pk", "updated_at")),
        list(DefaultCalendar.objects.values_list("calendar_id", flat=True)),
        list(TeamCalendar.objects.order_by("pk").values_list("team_id", "calendar_id")),
        list(OrganizationCalendar.objects.order_by("pk").values_list("organization_id", "calendar_id")),
    )


def _url(name: str, make: object = None) -> Route:
    if make is None:
        return Route(lambda w: reverse(name), manager_page())
    return Route(lambda w: reverse(name, args=[make(w)]), manager_page())  # type: ignore[operator]


PAGES: dict[str, Route] = {
    "policies:sla_list": _url("policies:sla_list"),
    "policies:sla_new": _url("policies:sla_new"),
    "policies:sla_edit": _url("policies:sla_edit", _sla_policy),
    "policies:sla_delete": _url("policies:sla_delete", _sla_policy),
    "policies:escalation_list": _url("policies:escalation_list"),
    "policies:escalation_new": _url("policies:escalation_new"),
    "policies:escalation_edit": _url("policies:escalation_edit", _escalation),
    "policies:escalation_delete": _url("policies:escalation_delete", _escalation),
    "policies:calendar_list": _url("policies:calendar_list"),
    "policies:calendar_new": _url("policies:calendar_new"),
    "policies:calendar_edit": _url("policies:calendar_edit", _calendar),
    "policies:calendar_delete": _url("policies:calendar_delete", _calendar),
    "policies:assignments": _url("policies:assignments"),
}

FORMS: dict[str, Route] = {
    name: Route(route.url, route.expected, state=_state)
    for name, route in {
        **{k: v for k, v in PAGES.items() if not k.endswith("_list")},
        "policies:sla_move": _url("policies:sla_move", _sla_policy),
        "policies:sla_toggle": _url("policies:sla_toggle", _sla_policy),
    }.items()
}
