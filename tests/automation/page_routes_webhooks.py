"""The webhook pages in the page permission matrix (tests/test_page_permissions.py): managers'
and admins' only, like every page under /manage/."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from deskpilot.automation.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from tests.page_matrix import Route, World, manager_page


def _subscription() -> WebhookSubscription:
    """A subscription with one failed delivery (made on first use in a test)."""
    existing = WebhookSubscription.objects.order_by("id").first()
    if existing is not None:
        return existing
    # Created directly: the matrix is about who may open the pages, not URL checks (no DNS).
    subscription = WebhookSubscription.objects.create(
        name="Matrix hook", url="https://hooks.example.com/deskpilot", events=["ticket.created"]
    )
    WebhookDelivery.objects.create(
        subscription=subscription, event_id="evt_matrix", event_type="ticket.created", payload={"type": "x"},
        status=DeliveryStatus.FAILED, attempts=6, response_code=500, last_error="HTTP 500",
    )  # fmt: skip
    return subscription


def _delivery() -> WebhookDelivery:
    delivery = WebhookDelivery.objects.filter(subscription=_subscription()).order_by("id").first()
    assert delivery is not None
    return delivery


def _state() -> object:
    """What a refused webhook form must leave alone: every subscription and delivery as it was."""
    subscriptions = sorted(
        WebhookSubscription.objects.values_list("pk", "name", "url", "events", "format", "secret", "active")
    )
    deliveries = sorted(WebhookDelivery.objects.values_list("pk", "status", "attempts", "next_attempt_at"))
    return subscriptions, deliveries


def _url(name: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(f"webhooks:{name}", args=[_subscription().pk])

    return url


def _delivery_url(name: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        delivery = _delivery()
        return reverse(f"webhooks:{name}", args=[delivery.subscription_id, delivery.pk])

    return url


PAGES: dict[str, Route] = {
    "webhooks:list": Route(lambda w: reverse("webhooks:list"), manager_page()),
    "webhooks:new": Route(lambda w: reverse("webhooks:new"), manager_page()),
    "webhooks:edit": Route(_url("edit"), manager_page()),
    "webhooks:delete": Route(_url("delete"), manager_page()),
    "webhooks:deliveries": Route(_url("deliveries"), manager_page()),
    "webhooks:delivery": Route(_delivery_url("delivery"), manager_page()),
}

FORMS: dict[str, Route] = {
    "webhooks:new": Route(lambda w: reverse("webhooks:new"), manager_page(), state=_state),
    "webhooks:edit": Route(_url("edit"), manager_page(), state=_state),
    "webhooks:delete": Route(_url("delete"), manager_page(), state=_state),
    "webhooks:toggle": Route(_url("toggle"), manager_page(), state=_state),
    "webhooks:rotate_secret": Route(_url("rotate_secret"), manager_page(), state=_state),
    "webhooks:send_test": Route(_url("send_test"), manager_page(), state=_state),
    "webhooks:redeliver": Route(_delivery_url("redeliver"), manager_page(), state=_state),
}
