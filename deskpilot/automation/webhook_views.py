"""Managers' pages for webhook subscriptions: the list (with how each is faring), the form with
the signing secret and how to verify it, activate/deactivate, delete after confirming, rotating
the secret, a test event, and each subscription's delivery log with redelivery of failed ones.

Thin: the form shapes the request, ``automation.webhooks`` validates, writes and queues (the same
delivery machinery as every event), and its InvalidInput re-renders the form with 422 and the
error next to the field.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskpilot.accounts.access import manager_required, page_user
from deskpilot.automation import webhooks
from deskpilot.automation.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from deskpilot.automation.webhook_forms import DeliveryFilterForm, SubscriptionForm
from deskpilot.core import delivery_log as delivery_log_page
from deskpilot.core.errors import InvalidInput

# The list's "failed recently" column looks back this far.
FAILED_WINDOW = datetime.timedelta(days=7)
# Characters of the secret shown while it is hidden: enough to tell two secrets apart.
SECRET_VISIBLE_TAIL = 4
RETRY_HOURS = round(sum(webhooks.RETRY_MINUTES) / 60, 1)


def _subscription(pk: int) -> WebhookSubscription:
    found = WebhookSubscription.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no webhook {pk}")
    return found


def _masked(secret: str) -> str:
    prefix = "whsec_" if secret.startswith("whsec_") else ""
    return prefix + "•" * 12 + secret[-SECRET_VISIBLE_TAIL:]


@require_GET
@manager_required
def subscription_list(request: HttpRequest) -> HttpResponse:
    """Every subscription with its latest delivery and its failures of the last week: three
    queries however many there are."""
    latest = WebhookDelivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id")
    rows = list(
        WebhookSubscription.objects.annotate(
            last_status=Subquery(latest.values("status")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        ).order_by("name", "id")
    )
    since = timezone.now() - FAILED_WINDOW
    failed = dict(
        WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED, created_at__gte=since)
        .values_list("subscription_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        row.host = urlsplit(row.url).hostname or row.url  # type: ignore[attr-defined]
        row.failed_recently = failed.get(row.pk, 0)  # type: ignore[attr-defined]
    context = {"rows": rows, "title": "Webhooks", "window_days": FAILED_WINDOW.days, "retry_hours": RETRY_HOURS}
    return render(request, "webhooks/list.html", context)


def _edit_page(
    request: HttpRequest, form: SubscriptionForm, subscription: WebhookSubscription | None, *, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "subscription": subscription,
        "title": subscription.name if subscription else "New webhook",
        "signature_header": "X-Deskpilot-Signature",
        "event_header": "X-Deskpilot-Event",
        "delivery_header": "X-Deskpilot-Delivery",
        "retry_count": len(webhooks.RETRY_MINUTES),
        "retry_hours": RETRY_HOURS,
    }
    if subscription is not None:
        context["masked_secret"] = _masked(subscription.secret)
    return render(request, "webhooks/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manager_required
def subscription_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    subscription = _subscription(pk) if pk is not None else None
    if request.method == "GET":
        return _edit_page(request, SubscriptionForm(subscription=subscription), subscription)
    form = SubscriptionForm(request.POST, subscription=subscription)
    if form.is_valid():
        try:
            if subscription is None:
                subscription = webhooks.create_subscription(**form.values(), created_by=page_user(request))
                messages.success(request, f"Webhook “{subscription.name}” created. Its signing secret is below.")
            else:
                webhooks.update_subscription(subscription, **form.values())
                messages.success(request, f"Webhook “{subscription.name}” saved.")
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            return redirect("webhooks:edit", pk=subscription.pk)
    return _edit_page(request, form, subscription, status=422)


@require_http_methods(["GET", "POST"])
@manager_required
def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what deleting means; POST: delete (its delivery log goes with it)."""
    subscription = _subscription(pk)
    if request.method == "POST":
        subscription.delete()
        messages.success(request, f"Webhook “{subscription.name}” deleted.")
        return redirect("webhooks:list")
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).count()
    context = {"subscription": subscription, "deliveries": deliveries, "title": f"Delete {subscription.name}"}
    return render(request, "webhooks/confirm_delete.html", context)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def subscription_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(pk)
    active = request.POST.get("active") == "on"
    if active != subscription.active:
        webhooks.set_subscription_active(subscription, active)
        messages.success(request, f"Webhook “{subscription.name}” {'activated' if active else 'deactivated'}.")
    return redirect(reverse("webhooks:list") + f"#webhook-{subscription.pk}")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(pk)
    webhooks.rotate_secret(subscription)
    messages.success(request, f"Webhook “{subscription.name}” has a new signing secret; give it to the receiver now.")
    return redirect(reverse("webhooks:edit", args=[subscription.pk]) + "#secret")


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def send_test(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription(pk)
    try:
        delivery = webhooks.send_test(subscription)
    except InvalidInput as error:
        messages.error(request, f"No test event sent: {error}")
        return redirect(reverse("webhooks:edit", args=[subscription.pk]))
    messages.success(request, "Test event queued; its delivery is at the top of the log.")
    return redirect(reverse("webhooks:deliveries", args=[subscription.pk]) + f"#delivery-{delivery.pk}")


@require_GET
@manager_required
def delivery_log(request: HttpRequest, pk: int) -> HttpResponse:
    """The subscription's deliveries, newest first, keyset-paginated; payloads and response
    bodies are left in the database until a delivery is opened."""
    subscription = _subscription(pk)
    found = delivery_log_page.page(
        request,
        WebhookDelivery.objects.filter(subscription=subscription).defer("payload", "response_body"),
        DeliveryFilterForm(request.GET),
    )
    context = {
        **found.context(),
        "subscription": subscription,
        "failed": DeliveryStatus.FAILED,
        "title": f"Deliveries: {subscription.name}",
    }
    return render(request, "webhooks/deliveries.html", context, status=found.status)


def _delivery(subscription: WebhookSubscription, delivery_id: int) -> WebhookDelivery:
    found = WebhookDelivery.objects.filter(pk=delivery_id, subscription=subscription).first()
    if found is None:
        raise Http404(f"no delivery {delivery_id} of this webhook")
    return found


@require_GET
@manager_required
def delivery_detail(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    subscription = _subscription(pk)
    delivery = _delivery(subscription, delivery_id)
    context = {
        "subscription": subscription,
        "delivery": delivery,
        # Shown as text in <pre>: the template escapes it like every other value.
        "payload": json.dumps(delivery.payload, indent=2, ensure_ascii=False),
        "failed": DeliveryStatus.FAILED,
        "title": f"Delivery {delivery.event_type}",
        "response_keep": webhooks.RESPONSE_KEEP_CHARS,
    }
    return render(request, "webhooks/delivery.html", context)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def redeliver(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    subscription = _subscription(pk)
    delivery = _delivery(subscription, delivery_id)
    delivery.subscription = subscription
    try:
        webhooks.redeliver(delivery)
    except InvalidInput as error:
        messages.error(request, f"Not redelivered: {error}")
    else:
        messages.success(request, f"Delivery of {delivery.event_type} queued again.")
    return redirect(reverse("webhooks:delivery", args=[subscription.pk, delivery.pk]))
