"""The business-hours pages: calendars (list, form, delete after confirming) and which calendar
applies by default and to each team and organization."""

from __future__ import annotations

import datetime
import zoneinfo
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from deskpilot.accounts.access import manager_required
from deskpilot.accounts.models import Team
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization
from deskpilot.policies import holidays as public_holidays
from deskpilot.policies import sla_actions
from deskpilot.policies.forms import AssignmentsForm, CalendarForm
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    TeamCalendar,
)
from deskpilot.policies.views import get_or_404, render_page


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
    return render_page(
        request, "policies/calendar_list.html", {"rows": rows, "title": "Business hours"}, tab="policies:calendar_list"
    )


@manager_required
def calendar_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    calendar = get_or_404(BusinessCalendar, pk, "calendar") if pk is not None else None
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
    return render_page(request, "policies/calendar_edit.html", context, tab="policies:calendar_list", status=status)


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
    calendar = get_or_404(BusinessCalendar, pk, "calendar")
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
    return render_page(request, "policies/confirm_delete.html", context, tab="policies:calendar_list")


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
    return render_page(request, "policies/assignments.html", context, tab="policies:assignments", status=status)
