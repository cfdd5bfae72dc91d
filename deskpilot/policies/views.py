"""Managers' pages for SLA policies, escalation policies and business-hours calendars: lists,
create and edit forms, delete (a confirmation page, then POST), reordering, and which calendar
applies to which team and organization.

Thin: a form shapes the request, an action in ``policies.sla_actions`` validates and writes (and
enqueues the SLA recompute), and its InvalidInput re-renders the form with 422 and the error next
to the field.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import manager_required
from deskpilot.accounts.models import Team
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization
from deskpilot.policies import holidays as public_holidays
from deskpilot.policies import sla_actions
from deskpilot.policies.forms import (
    AssignmentsForm,
    CalendarForm,
    EscalationPolicyForm,
    SlaPolicyForm,
)
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    DefaultCalendar,
    EscalationLevel,
    EscalationPolicy,
    OrganizationCalendar,
    SlaMetric,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)
from deskpilot.tickets.models import Channel, Priority, TicketType

TABS = (
    ("policies:sla_list", "SLA policies"),
    ("policies:escalation_list", "Escalation policies"),
    ("policies:calendar_list", "Business hours"),
    ("policies:assignments", "Calendar assignments"),
)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, tab: str, status: int = 200
) -> HttpResponse:
    tabs = [{"url": reverse(name), "label": label, "current": name == tab} for name, label in TABS]
    return render(request, template, {**context, "tabs": tabs}, status=status)


def _get(model: Any, pk: int, noun: str) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no {noun} {pk}")
    return found


def duration(minutes: int) -> str:
    """90 → "1 h 30 m", 2880 → "2 d"."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} m" if mins else ""]
    return " ".join(p for p in parts if p)


# --- SLA policies --------------------------------------------------------------------------------


@dataclass
class PolicyRow:
    policy: SlaPolicy
    conditions: list[str]
    targets: list[str] = field(default_factory=list)


def _labels(values: list[Any], names: dict[Any, str]) -> str:
    return ", ".join(names.get(v, str(v)) for v in values)


def _policy_rows(policies: list[SlaPolicy]) -> list[PolicyRow]:
    """Each policy with its conditions and targets in words (team and organization names read in
    one query each for the whole list)."""
    team_ids = {int(t) for p in policies for t in p.teams}
    org_ids = {int(o) for p in policies for o in p.organizations}
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name")) if team_ids else {}
    orgs = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name")) if org_ids else {}
    priorities, channels, types = dict(Priority.choices), dict(Channel.choices), dict(TicketType.choices)
    metric_labels = dict(SlaMetric.choices)
    order = {p: i for i, p in enumerate(reversed(Priority.values))}  # urgent first
    rows = []
    for policy in policies:
        conditions = []
        for label, values, names in (
            ("Priority", policy.priorities, priorities),
            ("Team", policy.teams, teams),
            ("Organization", policy.organizations, orgs),
            ("Tier", policy.tiers, {}),
            ("Channel", policy.channels, channels),
            ("Type", policy.types, types),
            ("Tag", policy.tags, {}),
        ):
            if values:
                conditions.append(f"{label}: {_labels(values, names)}")
        by_metric: dict[str, list[SlaTarget]] = defaultdict(list)
        for target in policy.targets.all():
            by_metric[target.metric].append(target)
        targets = []
        for metric in SlaMetric.values:
            found = sorted(by_metric.get(metric, []), key=lambda t: (order.get(t.priority, 9), t.team_id or 0))
            if not found:
                continue
            parts = []
            for t in found:
                who = priorities.get(t.priority, "") if t.team_id is None else (t.team.name if t.team else "")
                parts.append(f"{who} {duration(t.minutes)}{' (business)' if t.business_hours else ''}")
            targets.append(f"{metric_labels[metric]}: " + ", ".join(parts))
        rows.append(PolicyRow(policy, conditions or ["Any ticket"], targets))
    return rows


@manager_required
def sla_list(request: HttpRequest) -> HttpResponse:
    policies = list(
        SlaPolicy.objects.select_related("calendar", "escalation")
        .prefetch_related(Prefetch("targets", queryset=SlaTarget.objects.select_related("team")))
        .order_by("position", "id")
    )
    return _render(
        request,
        "policies/sla_list.html",
        {"rows": _policy_rows(policies), "title": "SLA policies"},
        tab="policies:sla_list",
    )


@manager_required
def sla_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = _get(SlaPolicy, pk, "SLA policy") if pk is not None else None
    status = 200
    if request.method == "POST":
        form = SlaPolicyForm(request.POST, policy=policy)
        if form.is_valid():
            try:
                if policy is None:
                    values = form.action_values()
                    policy = sla_actions.create_sla_policy(**values)
                else:
                    policy = sla_actions.update_sla_policy(policy, **form.action_values())
            except InvalidInput as error:
                form.add_action_error(error, form.field_map())
            else:
                messages.success(request, f"SLA policy “{policy.name}” saved; open tickets are being re-checked.")
                return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")
        status = 422
    else:
        form = SlaPolicyForm(policy=policy)
    context = {"form": form, "policy": policy, "title": policy.name if policy else "New SLA policy"}
    return _render(request, "policies/sla_edit.html", context, tab="policies:sla_list", status=status)


@manager_required
def sla_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get(SlaPolicy, pk, "SLA policy")
    if request.method == "POST":
        sla_actions.delete_sla_policy(policy)
        messages.success(request, f"SLA policy “{policy.name}” deleted; open tickets are being re-checked.")
        return redirect("policies:sla_list")
    context = {
        "object": policy,
        "noun": "SLA policy",
        "title": f"Delete {policy.name}",
        "consequence": "Tickets it applies to are matched against the other policies; their history stays.",
        "back": reverse("policies:sla_edit", args=[policy.pk]),
    }
    return _render(request, "policies/confirm_delete.html", context, tab="policies:sla_list")


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def sla_move(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get(SlaPolicy, pk, "SLA policy")
    direction = request.POST.get("direction")
    position = request.POST.get("position", "").strip()
    try:
        if direction in ("up", "down"):
            sla_actions.move_sla_policy(policy, -1 if direction == "up" else 1)
        elif position.isdigit() and int(position) >= 1:
            ids = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
            ids.remove(policy.pk)
            ids.insert(int(position) - 1, policy.pk)
            sla_actions.reorder_sla_policies(ids)
        else:
            raise InvalidInput("position", "choose up, down, or a position from 1")
    except InvalidInput as error:
        messages.error(request, str(error))
    return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def sla_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get(SlaPolicy, pk, "SLA policy")
    active = request.POST.get("active") == "on"
    if active != policy.active:
        sla_actions.set_sla_policy_active(policy, active)
        messages.success(request, f"SLA policy “{policy.name}” {'activated' if active else 'deactivated'}.")
    return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")


# --- escalation policies -------------------------------------------------------------------------


def _escalation_summary(policy: EscalationPolicy, metric_labels: dict[str, str]) -> dict[str, str]:
    when = " and ".join(w for w, on in (("warning", policy.on_warning), ("breach", policy.on_breach)) if on)
    metrics = ", ".join(metric_labels.get(m, m) for m in policy.metrics) or "all metrics"
    actions = []
    if policy.notify_assignee:
        actions.append("notify the assignee")
    if policy.notify_team_lead:
        actions.append("notify the team lead")
    if policy.notify_emails:
        actions.append("email " + ", ".join(policy.notify_emails))
    if policy.raise_priority:
        actions.append("raise the priority")
    if policy.move_to_team is not None:
        actions.append(f"move to {policy.move_to_team.name}")
    if policy.escalate_to:
        actions.append(f"escalate to {EscalationLevel(policy.escalate_to).label}")
    if policy.add_lead_as_follower:
        actions.append("add the lead as follower")
    if policy.add_tag:
        actions.append(f"tag {policy.add_tag}")
    return {"when": when, "metrics": metrics, "actions": "; ".join(actions)}


@manager_required
def escalation_list(request: HttpRequest) -> HttpResponse:
    policies = EscalationPolicy.objects.select_related("move_to_team").annotate(used_by=Count("sla_policies"))
    labels = dict(SlaMetric.choices)
    rows = [{"policy": p, **_escalation_summary(p, labels)} for p in policies.order_by("name")]
    return _render(
        request,
        "policies/escalation_list.html",
        {"rows": rows, "title": "Escalation policies"},
        tab="policies:escalation_list",
    )


@manager_required
def escalation_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = _get(EscalationPolicy, pk, "escalation policy") if pk is not None else None
    status = 200
    if request.method == "POST":
        form = EscalationPolicyForm(request.POST, policy=policy)
        if form.is_valid():
            try:
                if policy is None:
                    policy = sla_actions.create_escalation_policy(**form.action_values())
                else:
                    policy = sla_actions.update_escalation_policy(policy, **form.action_values())
            except InvalidInput as error:
                form.add_action_error(error)
            else:
                messages.success(request, f"Escalation policy “{policy.name}” saved.")
                return redirect("policies:escalation_list")
        status = 422
    else:
        form = EscalationPolicyForm(policy=policy)
    context = {"form": form, "policy": policy, "title": policy.name if policy else "New escalation policy"}
    return _render(request, "policies/escalation_edit.html", context, tab="policies:escalation_list", status=status)


@manager_required
def escalation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = _get(EscalationPolicy, pk, "escalation policy")
    if request.method == "POST":
        sla_actions.delete_escalation_policy(policy)
        messages.success(request, f"Escalation policy “{policy.name}” deleted.")
        return redirect("policies:escalation_list")
    used = list(SlaPolicy.objects.filter(escalation=policy).values_list("name", flat=True))
    consequence = f"SLA policies that use it stop escalating: {', '.join(used)}." if used else "No SLA policy uses it."
    context = {
        "object": policy,
        "noun": "escalation policy",
        "title": f"Delete {policy.name}",
        "consequence": consequence,
        "back": reverse("policies:escalation_edit", args=[policy.pk]),
    }
    return _render(request, "policies/confirm_delete.html", context, tab="policies:escalation_list")


# --- calendars -----------------------------------------------------------------------------------


def _calendars() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.prefetch_related(
        Prefetch("intervals", queryset=BusinessInterval.objects.order_by("weekday", "start"))
    ).annotate(
        team_count=Count("teams", distinct=True),
        organization_count=Count("organizations", distinct=True),
        holiday_count=Count("custom_holidays", distinct=True),
    )


@manager_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    default = DefaultCalendar.objects.values_list("calendar_id", flat=True).first()
    policy_counts = dict(
        SlaPolicy.objects.filter(calendar__isnull=False)
        .values("calendar_id")
        .annotate(n=Count("id"))
        .values_list("calendar_id", "n")
    )
    rows = []
    for calendar in _calendars().order_by("name"):
        days: dict[str, list[str]] = defaultdict(list)
        for interval in calendar.intervals.all():
            days[interval.get_weekday_display()[:3]].append(f"{interval.start:%H:%M}-{interval.end:%H:%M}")
        rows.append(
            {
                "calendar": calendar,
                "hours": [f"{day} {', '.join(spans)}" for day, spans in days.items()],
                "default": calendar.pk == default,
                "policies": policy_counts.get(calendar.pk, 0),
            }
        )
    return _render(
        request, "policies/calendar_list.html", {"rows": rows, "title": "Business hours"}, tab="policies:calendar_list"
    )


@manager_required
def calendar_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = _get(BusinessCalendar, pk, "calendar") if pk is not None else None
    status = 200
    if request.method == "POST":
        form = CalendarForm(request.POST, calendar=calendar)
        if form.is_valid():
            try:
                if calendar is None:
                    calendar = sla_actions.create_calendar(**form.action_values())
                else:
                    calendar = sla_actions.update_calendar(calendar, **form.action_values())
            except InvalidInput as error:
                form.add_calendar_error(error)
            else:
                messages.success(request, f"Calendar “{calendar.name}” saved.")
                return redirect("policies:calendar_list")
        status = 422
    else:
        form = CalendarForm(calendar=calendar)
    context = {
        "form": form,
        "calendar": calendar,
        "title": calendar.name if calendar else "New calendar",
        "upcoming": _upcoming_closed_days(calendar) if calendar is not None else [],
    }
    return _render(request, "policies/calendar_edit.html", context, tab="policies:calendar_list", status=status)


def _upcoming_closed_days(calendar: BusinessCalendar, count: int = 8) -> list[tuple[datetime.date, str]]:
    """The next holidays (public and custom) on the calendar's own date, so a manager sees the
    country and subdivision codes chose the days they meant."""
    today = timezone.localtime(timezone=zoneinfo.ZoneInfo(calendar.time_zone)).date()
    custom = dict(calendar.custom_holidays.values_list("date", "name"))
    try:
        dates = public_holidays.holiday_dates(
            calendar.holiday_country,
            calendar.holiday_subdivision,
            years=(today.year, today.year + 1),
            custom=custom,
        )
    except public_holidays.UnknownRegion:
        return []
    return [(day, custom.get(day, "")) for day in sorted(d for d in dates if d >= today)[:count]]


@manager_required
def calendar_delete(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = _get(BusinessCalendar, pk, "calendar")
    if request.method == "POST":
        sla_actions.delete_calendar(calendar)
        messages.success(request, f"Calendar “{calendar.name}” deleted; open tickets are being re-checked.")
        return redirect("policies:calendar_list")
    uses = []
    if DefaultCalendar.objects.filter(calendar=calendar).exists():
        uses.append("it is the default calendar")
    for label, count in (
        ("team(s)", TeamCalendar.objects.filter(calendar=calendar).count()),
        ("organization(s)", OrganizationCalendar.objects.filter(calendar=calendar).count()),
        ("SLA policy(ies)", SlaPolicy.objects.filter(calendar=calendar).count()),
    ):
        if count:
            uses.append(f"{count} {label} use it")
    consequence = (
        "In use: " + "; ".join(uses) + ". They fall back to the next calendar (team, organization, default)."
        if uses
        else "Nothing uses it."
    )
    context = {
        "object": calendar,
        "noun": "calendar",
        "title": f"Delete {calendar.name}",
        "consequence": consequence,
        "back": reverse("policies:calendar_edit", args=[calendar.pk]),
    }
    return _render(request, "policies/confirm_delete.html", context, tab="policies:calendar_list")


@manager_required
def assignments(request: HttpRequest) -> HttpResponse:
    team_calendars = dict(TeamCalendar.objects.values_list("team_id", "calendar_id"))
    teams = [(pk, name, team_calendars.get(pk)) for pk, name in Team.objects.order_by("name").values_list("pk", "name")]
    org_links = OrganizationCalendar.objects.select_related("organization").order_by("organization__name")
    organizations = [(link.organization_id, link.organization.name, link.calendar_id) for link in org_links]
    assigned = {pk for pk, _n, _c in organizations}
    unassigned = [
        (pk, name) for pk, name in Organization.objects.order_by("name").values_list("pk", "name") if pk not in assigned
    ]
    default = DefaultCalendar.objects.values_list("calendar_id", flat=True).first()
    kwargs: dict[str, Any] = {
        "teams": teams,
        "organizations": organizations,
        "unassigned_organizations": unassigned,
        "default": default,
    }
    status = 200
    if request.method == "POST":
        form = AssignmentsForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                changed = sla_actions.assign_calendars(**form.action_values())
            except InvalidInput as error:
                form.add_action_error(error, form.field_map())
            else:
                if changed:
                    messages.success(request, "Calendars saved; open tickets are being re-checked.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("policies:assignments")
        status = 422
    else:
        form = AssignmentsForm(**kwargs)
    context = {"form": form, "title": "Calendar assignments"}
    return _render(request, "policies/assignments.html", context, tab="policies:assignments", status=status)
