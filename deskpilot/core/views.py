"""Pages of no single domain: the managers' overview of everything they configure, and every staff
member's in-app notifications (``core.Notification``, written by ``mail.notifications``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import manager_required, page_user, staff_required
from deskpilot.core.models import Notification
from deskpilot.tickets import permissions

NOTIFICATIONS_PER_PAGE = 50


@dataclass(frozen=True)
class Section:
    title: str
    url: str
    text: str


def _sections() -> list[tuple[str, list[Section]]]:
    return [
        (
            "Service levels",
            [
                Section("SLA policies", reverse("policies:sla_list"), "Targets per priority for the seven SLA "
                        "metrics, which tickets each policy covers, warnings before a breach."),
                Section("Escalation policies", reverse("policies:escalation_list"), "What happens on a warning "
                        "or a breach: notify, raise the priority, move to a team, add a follower, tag."),
                Section("Business hours", reverse("policies:calendar_list"), "Calendars with opening hours and "
                        "holidays, and which team or organization works on which."),
            ],
        ),
        (
            "Assignment and automation",
            [
                Section("Routing", reverse("routing:teams"), "How each team's new tickets are assigned: "
                        "round-robin, least-loaded, by skill, and each agent's capacity."),
                Section("Triggers", reverse("rules:trigger_list"), "Rules that act the moment a ticket is "
                        "created or changed."),
                Section("Automations", reverse("rules:automation_list"), "Rules that act after time has passed, "
                        "such as reminders and auto-solve."),
                Section("Macros", reverse("rules:macro_list"), "Canned changes and replies agents apply from "
                        "the ticket page."),
                Section("Webhooks", reverse("webhooks:list"), "Other systems and chat channels told about "
                        "tickets, SLA warnings, breaches and escalations, with a delivery log."),
            ],
        ),
        (
            "Measuring and reporting",
            [
                Section("KPI targets", reverse("targets:list"), "Targets per KPI for the desk, a team or an "
                        "agent, judged on track, at risk or missed wherever the KPI appears."),
                Section("Scheduled reports", reverse("reports:schedules"), "The executive report with its "
                        "figures attached, e-mailed daily, weekly or monthly at each recipient's hour."),
                Section("Surveys", reverse("feedback_manage:list"), "CSAT and CES after a solve, per team and "
                        "language: texts, delay, how often a customer may be asked, reasons for bad answers."),
                Section("Survey follow-ups", reverse("feedback_follow_ups:list"), "Customers who answered "
                        "badly and are owed a call-back, and how each call went."),
            ],
        ),
        (
            "Email",
            [
                Section("Failed email", reverse("mail_inbound:failed"), "Email that was kept but could not "
                        "become a ticket, to retry once the cause is fixed."),
                Section("Spam", reverse("mail_inbound:spam"), "Email held as spam, to release or delete."),
            ],
        ),
    ]  # fmt: skip


@manager_required
def manage_home(request: HttpRequest) -> HttpResponse:
    return render(request, "deskpilot/manage.html", {"title": "Manage", "groups": _sections()})


@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    unread_only = request.GET.get("show") == "unread"
    rows = Notification.objects.filter(user=user).select_related("ticket")
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "deskpilot/notifications.html",
        {"title": "Notifications", "page": page, "unread_only": unread_only},
    )


@require_POST  # outermost: a GET is refused (405) before who asks matters
@staff_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to its ticket (when the reader may still see it)."""
    user = page_user(request)
    notice = get_object_or_404(Notification, pk=pk, user=user)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    if notice.ticket is not None and permissions.can_view(user, notice.ticket):
        return redirect("tickets:ticket", ticket_id=notice.ticket_id)
    if notice.ticket_id is not None:
        messages.info(request, "That ticket is no longer yours to see.")
    return redirect("core:notifications")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@staff_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    done = Notification.objects.filter(user=page_user(request), read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, f"{done} notification{'s' if done != 1 else ''} marked read.")
    return redirect("core:notifications")
