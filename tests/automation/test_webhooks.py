"""Webhooks against a real HTTP server on loopback: signed deliveries, formats, retries, the
delivery log, and the SSRF guard."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from deskpilot.accounts.models import Role
from deskpilot.automation import webhooks
from deskpilot.automation.models import DeliveryStatus, WebhookDelivery, WebhookFormat, WebhookSubscription
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets import actions
from deskpilot.tickets.models import Status, Via
from tests import factories

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Status codes to answer, in order; 200 once they run out.
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            if status in (301, 302):
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.end_headers()
            self.wfile.write(b"thanks" if status < 300 else b"nope")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/deskpilot"
    yield state
    server.shutdown()
    server.server_close()


def _verify(secret: str, request: dict[str, Any]) -> dict[str, Any]:
    """What a receiver does: recompute the signature over "<t>.<body>"."""
    header = request["headers"]["X-Deskpilot-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    return json.loads(request["body"])


def test_a_new_ticket_is_delivered_signed(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    subscription = webhooks.create_subscription(
        name="CRM", url=receiver.url, events=["ticket.created", "message.created"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket(subject="Printer on fire", body_text="Smoke everywhere")
    assert [r["path"] for r in receiver.requests] == ["/hooks/deskpilot", "/hooks/deskpilot"]
    payloads = [_verify(subscription.secret, r) for r in receiver.requests]
    assert [p["type"] for p in payloads] == ["ticket.created", "message.created"]
    assert payloads[0]["data"]["ticket"]["id"] == ticket.pk
    assert payloads[0]["data"]["ticket"]["subject"] == "Printer on fire"
    assert payloads[1]["data"]["message"]["body_text"] == "Smoke everywhere"
    assert receiver.requests[0]["headers"]["X-Deskpilot-Event"] == "ticket.created"
    rows = WebhookDelivery.objects.order_by("id")
    assert [(d.status, d.response_code, d.attempts) for d in rows] == [(DeliveryStatus.DELIVERED, 200, 1)] * 2


def test_a_tampered_body_fails_verification(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    subscription = webhooks.create_subscription(name="CRM", url=receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    request = dict(receiver.requests[0])
    request["body"] = request["body"].replace(b'"status":"new"', b'"status":"solved"')
    with pytest.raises(AssertionError):
        _verify(subscription.secret, request)


def test_updates_carry_their_changes_and_only_wanted_events_go_out(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    agent = factories.user(Role.AGENT)
    ticket = factories.ticket()
    subscription = webhooks.create_subscription(name="Ops", url=receiver.url, events=["ticket.updated"])
    off = webhooks.create_subscription(name="Off", url=receiver.url, events=["ticket.updated"])
    WebhookSubscription.objects.filter(pk=off.pk).update(active=False)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes={"status": Status.PENDING, "priority": "high"})
        actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Internal", public=False)
    payloads = [_verify(subscription.secret, r) for r in receiver.requests]
    assert [p["type"] for p in payloads] == ["ticket.updated"]
    changes = {c["field"]: (c["old"], c["new"]) for c in payloads[0]["data"]["changes"]}
    assert changes == {"status": ("new", "pending"), "priority": ("normal", "high")}


def test_slack_gets_a_line_of_text(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    webhooks.create_subscription(name="Slack", url=receiver.url, events=["ticket.created"], format=WebhookFormat.SLACK)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket(subject="VPN down", priority="urgent")
    [request] = receiver.requests
    assert json.loads(request["body"]) == {"text": f"New ticket #{ticket.pk} “VPN down” (urgent)"}
    assert "X-Deskpilot-Signature" not in request["headers"]


def test_failures_are_retried_with_backoff_then_given_up(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answers = [500] * 10
    webhooks.create_subscription(name="Flaky", url=receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.QUEUED, 1, 500)
    assert delivery.last_error == "HTTP 500"
    assert delivery.response_body == "nope"
    first_retry = delivery.next_attempt_at
    assert first_retry is not None
    # Nothing is due before the backoff has passed.
    assert webhooks.sweep(now=first_retry - datetime.timedelta(seconds=1)) == 0
    now = first_retry
    for minutes in webhooks.RETRY_MINUTES[1:]:
        webhooks.sweep(now=now)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.QUEUED
        assert delivery.next_attempt_at == now + datetime.timedelta(minutes=minutes)
        now = delivery.next_attempt_at
    webhooks.sweep(now=now)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, len(webhooks.RETRY_MINUTES) + 1)
    assert len(receiver.requests) == len(webhooks.RETRY_MINUTES) + 1
    assert webhooks.sweep(now=now + datetime.timedelta(days=1)) == 0


def test_a_retry_that_succeeds_is_delivered(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    receiver.answers = [503]
    webhooks.create_subscription(name="Flaky", url=receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    assert webhooks.sweep(now=timezone.now() + datetime.timedelta(minutes=2)) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 2, 200)
    assert delivery.last_error == ""


def test_redirects_are_not_followed(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    receiver.answers = [302]
    webhooks.create_subscription(name="Moved", url=receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.last_error) == (DeliveryStatus.QUEUED, 302, "HTTP 302")
    assert len(receiver.requests) == 1


def test_an_unreachable_receiver_is_recorded(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    webhooks.create_subscription(name="Gone", url="http://127.0.0.1:9/nothing-listens", events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.response_code is None
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


def test_nobody_subscribed_costs_one_query(django_assert_num_queries: Any) -> None:
    ticket = factories.ticket()
    with django_assert_num_queries(1):
        webhooks.on_ticket_changed(None, ticket_id=ticket.pk, fields=["status"])


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/x", "http:// or https://"),
        ("http://127.0.0.1:8000/x", "inside this network"),
        ("http://10.1.2.3/x", "inside this network"),
        ("http://[::1]/x", "inside this network"),
        ("http://169.254.169.254/latest/meta-data", "inside this network"),
    ],
)
def test_urls_inside_the_network_or_not_http_are_refused(url: str, problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        webhooks.create_subscription(name="x", url=url, events=["ticket.created"])
    assert problem in caught.value.errors["url"]


def test_a_public_address_is_accepted_and_events_are_validated() -> None:
    assert webhooks.create_subscription(name="ok", url="https://8.8.8.8/hook", events=["ticket.created"]).pk
    with pytest.raises(InvalidInput) as caught:
        webhooks.create_subscription(name="x", url="https://8.8.8.8/hook", events=["ticket.deleted"])
    assert "events" in caught.value.errors
    with pytest.raises(InvalidInput):
        webhooks.create_subscription(name="x", url="https://8.8.8.8/hook", events=[])


def test_a_private_address_is_not_contacted_later_either(
    receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    webhooks.create_subscription(name="LAN", url=receiver.url, events=["ticket.created"])
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        factories.ticket()
    delivery = WebhookDelivery.objects.get()
    assert "inside this network" in delivery.last_error
    assert receiver.requests == []


def test_managers_configure_webhooks_in_the_admin_agents_cannot() -> None:
    from django.test import Client

    manager, agent = factories.user(Role.MANAGER), factories.user(Role.AGENT)
    client = Client()
    client.force_login(manager)
    assert client.get("/admin/automation/webhooksubscription/add/").status_code == 200
    response = client.post(
        "/admin/automation/webhooksubscription/add/",
        {"name": "Intranet", "url": "http://127.0.0.1:8080/x", "events": ["ticket.created"], "format": "json"},
    )
    assert response.status_code == 200  # the form again, with the error next to the URL
    assert "inside this network" in response.content.decode()
    assert not WebhookSubscription.objects.exists()
    client.force_login(agent)
    assert client.get("/admin/automation/webhooksubscription/add/").status_code == 302  # to the admin's sign-in
