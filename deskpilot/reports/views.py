"""Managers' pages for scheduled reports: the list (when each recipient gets the next one, the
last delivery, failures), the form, delete after confirming, "send now" to one recipient or all,
and the delivery log with the errors and a retry button for failed deliveries.

Thin: the form checks the request, ``reports.actions`` writes and queues, ``reports.tasks``
sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskpilot.accounts.access import manager_required, page_user
from deskpilot.accounts.models import Team, User
from deskpilot.core import delivery_log as delivery_log_page
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization
from deskpilot.reports import actions, tasks
from deskpilot.reports.forms import DeliveryFilterForm, ScheduleForm, initial_from_query
from deskpilot.reports.models import DeliveryStatus, ReportDelivery, ReportRecipient, ReportSubscription
from deskpilot.tickets.models import Channel, Priority, TicketType

RETRY_HOURS = round(sum(tasks.RETRY_MINUTES) / 60, 1)


def _subscription(pk: int) -> ReportSubscription:
    found = ReportSubscription.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no scheduled report {pk}")
    return found


_MODELS: dict[str, Any] = {"team": Team, "agent": User, "organization": Organization}
_CHOICES: dict[str, Any] = {"channel": Channel, "priority": Priority, "type": TicketType}


def _filter_labels(subscriptions: Sequence[ReportSubscription]) -> None:
    """Each subscription's filters as people read them (``filter_labels``), with the names of
    the teams, agents and organizations read in one query per kind for the whole list."""
    wanted: dict[str, set[int]] = {name: set() for name in _MODELS}
    for subscription in subscriptions:
        for name in _MODELS:
            raw = str((subscription.filters or {}).get(name, ""))
            if raw.isdigit():
                wanted[name].add(int(raw))
    names = {
        name: dict(model._default_manager.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
        for name, model in _MODELS.items()
        for ids in [wanted[name]]
    }
    for subscription in subscriptions:
        labels = []
        for name, raw in (subscription.filters or {}).items():
            if name == "hours" or not raw:
                continue
            if name in _MODELS:
                label = names[name].get(int(raw)) if str(raw).isdigit() else None
                labels.append(f"{name.capitalize()}: {label or f'unknown ({raw})'}")
            elif name in _CHOICES and raw in _CHOICES[name].values:
                labels.append(f"{name.capitalize()}: {_CHOICES[name](raw).label}")
            else:
                labels.append(f"{name.capitalize()}: {raw}")
        subscription.filter_labels = labels  # type: ignore[attr-defined]


@require_GET
@manager_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    """Every scheduled report, its recipients with their next send, the last delivery and the
        failed ones: a query for the reports, one for their recipients, one for each kind of name
    in the filters, however many there are."""
    latest = ReportDelivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    rows = list(
        ReportSubscription.objects.select_related("owner")
        .prefetch_related(actions.recipients_prefetch())
        .annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )
        .order_by("name", "id")
    )
    _filter_labels(rows)
    now = timezone.now()
    for row in rows:
        row.next_sends = actions.next_sends(row, now)  # type: ignore[attr-defined]
    context = {"rows": rows, "title": "Scheduled reports", "retry_hours": RETRY_HOURS}
    return render(request, "reports/schedules.html", context)


def _edit_page(
    request: HttpRequest, form: ScheduleForm, subscription: ReportSubscription | None, *, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "subscription": subscription,
        "title": subscription.name if subscription else "New scheduled report",
        "retry_hours": RETRY_HOURS,
    }
    if subscription is not None:
        context["next_sends"] = actions.next_sends(subscription)
    return render(request, "reports/schedule_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manager_required
def schedule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """A report's form. A new one takes its filters from the performance page's URL parameters
    (team, agent, channel, priority, type, organization, tag, hours) when given."""
    subscription = _subscription(pk) if pk is not None else None
    if request.method == "GET":
        if subscription is not None:
            return _edit_page(request, ScheduleForm(subscription=subscription), subscription)
        # New addresses default to the manager's own zone; filters may come from the performance
        # page's parameters.
        initial = {"email_time_zone": page_user(request).time_zone or "UTC", **initial_from_query(request.GET)}
        form = ScheduleForm(initial=initial)
        return _edit_page(request, form, subscription)
    form = ScheduleForm(request.POST, subscription=subscription)
    if form.is_valid():
        try:
            saved = actions.save_subscription(
                subscription,
                owner=page_user(request),
                values=form.values(),
                users=list(form.cleaned_data["users"]),
                emails=form.email_recipients,
            )
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(request, f"Scheduled report “{saved.name}” {'saved' if subscription else 'created'}.")
            return redirect("reports:schedules")
    return _edit_page(request, form, subscription, status=422)


@require_http_methods(["GET", "POST"])
@manager_required
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting means; POST: delete (its delivery log goes with it)."""
    subscription = _subscription(pk)
    if request.method == "POST":
        actions.delete_subscription(subscription)
        messages.success(request, f"Scheduled report “{subscription.name}” deleted.")
        return redirect("reports:schedules")
    deliveries = ReportDelivery.objects.filter(subscription=subscription).count()
    context = {"subscription": subscription, "deliveries": deliveries, "title": f"Delete {subscription.name}"}
    return render(request, "reports/schedule_delete.html", context)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def send_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the report now, to the recipient posted (``recipient``, an id) or to every one."""
    subscription = _subscription(pk)
    raw = request.POST.get("recipient", "").strip()
    recipient: ReportRecipient | None = None
    if raw:
        recipient = (
            ReportRecipient.objects.select_related("user").filter(pk=raw, subscription=subscription).first()
            if raw.isdigit()
            else None
        )
        if recipient is None:
            messages.error(request, f"Not sent: {raw!r} is not a recipient of this report.")
            return redirect("reports:schedules")
    try:
        queued = actions.send_now(subscription, recipient, actor=page_user(request))
    except InvalidInput as error:
        messages.error(request, f"Not sent: {error}")
        return redirect("reports:schedules")
    whom = queued[0].address if len(queued) == 1 else f"{len(queued)} recipients"
    messages.success(request, f"“{subscription.name}” queued for {whom}; its delivery is at the top of the log.")
    return redirect("reports:deliveries", pk=subscription.pk)


@require_GET
@manager_required
def delivery_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The report's deliveries, newest first, keyset-paginated, with their errors."""
    subscription = _subscription(pk)
    found = delivery_log_page.page(
        request,
        ReportDelivery.objects.filter(subscription=subscription).select_related("requested_by"),
        DeliveryFilterForm(request.GET),
    )
    context = {
        **found.context(),
        "subscription": subscription,
        "failed": DeliveryStatus.FAILED,
        "title": f"Deliveries: {subscription.name}",
        "retry_hours": RETRY_HOURS,
    }
    return render(request, "reports/deliveries.html", context, status=found.status)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def retry(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    subscription = _subscription(pk)
    delivery = ReportDelivery.objects.filter(pk=delivery_id, subscription=subscription).first()
    if delivery is None:
        raise Http404(f"no delivery {delivery_id} of this report")
    try:
        actions.retry(delivery)
    except InvalidInput as error:
        messages.error(request, f"Not retried: {error}")
    else:
        messages.success(request, f"Delivery to {delivery.address} queued again.")
    return redirect(reverse("reports:deliveries", args=[subscription.pk]) + f"#delivery-{delivery.pk}")
