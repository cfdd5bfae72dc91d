"""The managers' webhook pages (automation.webhook_views): subscriptions created and edited with
mistakes explained next to their field, the signing secret, test events and redelivery through
the real delivery code (against an HTTP server on loopback), and the delivery log, whose
payloads and response bodies are shown as text, never as markup."""

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
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from deskpilot.accounts.models import Role
from deskpilot.automation import webhooks
from deskpilot.automation.models import DeliveryStatus, WebhookDelivery, WebhookFormat, WebhookSubscription
from deskpilot.core import delivery_log
from deskpilot.core.errors import InvalidInput
from tests import factories
from tests.pages import client_for

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
# Queries the base layout makes on any staff page (the unread-notifications count).
LAYOUT_QUERIES = 1
HOSTILE_ESCAPED = "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture(autouse=True)
def _no_dns(settings: Any) -> None:
    # The tests' example hosts are not looked up; the one test of the internal-address guard
    # turns the guard back on.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def manager() -> Client:
    return client_for(factories.user(Role.MANAGER))


@dataclass
class Receiver:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes = b"ok"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append({"headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


def _subscription(**kwargs: Any) -> WebhookSubscription:
    fields: dict[str, Any] = {"name": "CRM", "url": "https://hooks.example.com/deskpilot", "events": ["ticket.created"]}
    fields.update(kwargs)
    return webhooks.create_subscription(**fields)


def _delivery(subscription: WebhookSubscription, **kwargs: Any) -> WebhookDelivery:
    fields: dict[str, Any] = {
        "event_id": f"evt_{WebhookDelivery.objects.count()}",
        "event_type": "ticket.created",
        "payload": {"type": "ticket.created", "data": {"ticket": {"id": 1, "subject": "Printer"}}},
    }
    fields.update(kwargs)
    return WebhookDelivery.objects.create(subscription=subscription, **fields)


def _valid(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "CRM",
        "url": "https://hooks.example.com/deskpilot",
        "events": ["ticket.created", "sla.breached"],
        "format": "json",
    }
    data.update(changes)
    return data


# --- create and edit -------------------------------------------------------------------------------


def test_a_manager_creates_a_webhook_and_sees_it_listed(manager: Client) -> None:
    response = manager.post(reverse("webhooks:new"), _valid())
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:edit", args=[subscription.pk])
    assert (subscription.name, subscription.url, subscription.events, subscription.format, subscription.active) == (
        "CRM", "https://hooks.example.com/deskpilot", ["ticket.created", "sla.breached"], "json", True,
    )  # fmt: skip
    assert subscription.created_by is not None
    assert subscription.created_by.role == Role.MANAGER
    page = manager.get(reverse("webhooks:list")).content.decode()
    row = page.split(f'id="webhook-{subscription.pk}"')[1].split("</tr>")[0]
    assert '<code title="https://hooks.example.com/deskpilot">hooks.example.com</code>' in row
    assert '<span class="tag">ticket.created</span><span class="tag">sla.breached</span>' in row
    assert "JSON (signed event envelope)" in row
    assert "None yet" in row


@pytest.mark.parametrize(
    ("changes", "field_name", "problem"),
    [
        ({"url": "ftp://files.example.com/in"}, "url", "must be an http:// or https:// address"),
        ({"url": "javascript:alert(1)"}, "url", "must be an http:// or https:// address"),
        ({"url": ""}, "url", "This field is required."),
        ({"events": []}, "events", "choose at least one event"),
        (
            {"events": ["ticket.created", "ticket.deleted"]},
            "events",
            "ticket.deleted is not a known event; choose from: ticket.created, ticket.updated, message.created, "
            "sla.warning, sla.breached, ticket.escalated",
        ),
        ({"format": "xml"}, "format", "xml is not a format; choose from: json, slack, teams"),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 101}, "name", "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_mistake_is_refused_with_422_next_to_its_field(
    manager: Client, changes: dict[str, Any], field_name: str, problem: str
) -> None:
    response = manager.post(reverse("webhooks:new"), _valid(**changes))
    assert response.status_code == 422
    body = response.content.decode()
    assert f'<p class="error" id="id_{field_name}_error" role="alert">{problem}</p>' in body
    assert WebhookSubscription.objects.count() == 0


def test_an_address_inside_this_network_is_refused(manager: Client, settings: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = manager.post(reverse("webhooks:new"), _valid(url="http://127.0.0.1:8080/admin"))
    assert response.status_code == 422
    body = response.content.decode()
    assert (
        '<p class="error" id="id_url_error" role="alert">127.0.0.1 is an address inside this network; '
        "set DESKPILOT_WEBHOOK_ALLOW_PRIVATE to allow it</p>"
    ) in body
    assert 'aria-invalid="true"' in body.split('name="url"')[1].split(">")[0]
    assert WebhookSubscription.objects.count() == 0


def test_every_mistake_is_reported_at_once(manager: Client) -> None:
    response = manager.post(reverse("webhooks:new"), _valid(url="ftp://files.example.com", events=[], format="xml"))
    assert response.status_code == 422
    body = response.content.decode()
    for field_name in ("url", "events", "format"):
        assert f'id="id_{field_name}_error"' in body, field_name
    assert WebhookSubscription.objects.count() == 0


def test_typing_is_kept_when_refused(manager: Client) -> None:
    response = manager.post(reverse("webhooks:new"), _valid(name="Ops pager", events=[]))
    body = response.content.decode()
    assert 'value="Ops pager"' in body
    assert 'value="https://hooks.example.com/deskpilot"' in body


def test_edit_saves_and_a_refused_edit_changes_nothing(manager: Client) -> None:
    subscription = _subscription()
    url = reverse("webhooks:edit", args=[subscription.pk])
    page = manager.get(url).content.decode()
    assert 'value="https://hooks.example.com/deskpilot"' in page
    assert 'value="ticket.created" id="id_events_0" checked' in page

    refused = manager.post(url, _valid(name="Renamed", url="mailto:ops@example.com"))
    assert refused.status_code == 422
    assert "must be an http:// or https:// address" in refused.content.decode()
    assert "<h1>CRM</h1>" in refused.content.decode()  # the stored name, not the refused one
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url) == ("CRM", "https://hooks.example.com/deskpilot")

    saved = manager.post(url, _valid(name="Renamed", events=["message.created"], format="slack"))
    assert saved.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.events, subscription.format) == ("Renamed", ["message.created"], "slack")


def test_an_unknown_webhook_is_a_404(manager: Client) -> None:
    assert manager.get(reverse("webhooks:edit", args=[999])).status_code == 404
    assert manager.get(reverse("webhooks:deliveries", args=[999])).status_code == 404


@pytest.mark.parametrize(("role", "status"), [(Role.AGENT, 404), (Role.COLLABORATOR, 404), (Role.ADMIN, 200)])
def test_only_managers_and_admins_open_the_pages(role: str, status: int) -> None:
    subscription = _subscription()
    delivery = _delivery(subscription)
    client = client_for(factories.user(role))
    for url in (
        reverse("webhooks:list"),
        reverse("webhooks:edit", args=[subscription.pk]),
        reverse("webhooks:delivery", args=[subscription.pk, delivery.pk]),
    ):
        assert client.get(url).status_code == status, url
    assert client_for(factories.customer_user()).get(reverse("webhooks:list")).status_code == 404
    anonymous = client_for(None).get(reverse("webhooks:list"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/signin?next=")


def test_an_agent_cannot_rotate_the_secret(manager: Client) -> None:
    subscription = _subscription()
    before = subscription.secret
    response = client_for(factories.user(Role.AGENT)).post(reverse("webhooks:rotate_secret", args=[subscription.pk]))
    assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.secret == before


# --- the secret ------------------------------------------------------------------------------------


def test_the_secret_is_masked_and_revealed_only_on_request(manager: Client) -> None:
    subscription = _subscription()
    body = manager.get(reverse("webhooks:edit", args=[subscription.pk])).content.decode()
    masked = "whsec_" + "•" * 12 + subscription.secret[-4:]
    before_details, details = body.split("<details>", 1)
    assert f"<code>{masked}</code>" in before_details
    assert subscription.secret not in before_details
    # Inside a <details> element: revealed by a click without JavaScript, selectable to copy.
    assert f'readonly value="{subscription.secret}"' in details.split("</details>")[0]
    # How to verify, as webhooks.py signs.
    assert "X-Deskpilot-Signature" in body
    assert "X-Deskpilot-Delivery" in body
    assert "HMAC-SHA256" in body
    assert 'HMAC_SHA256(secret, "&lt;t&gt;." + body)' in body


def test_the_documented_verification_accepts_a_real_signature(manager: Client) -> None:
    """The snippet on the page is run against what webhooks.request_for sends, so the help text
    cannot drift from the signing code."""
    subscription = _subscription()
    body = manager.get(reverse("webhooks:edit", args=[subscription.pk])).content.decode()
    snippet = body.split('<pre class="raw">')[1].split("</pre>")[0]
    snippet = snippet.replace("&gt;", ">").replace("&lt;", "<").replace("&quot;", '"').replace("&amp;", "&")
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # the page's own example, as a receiver would paste it
    delivery = _delivery(subscription)
    request = webhooks.request_for(delivery)
    header = request.get_header("X-deskpilot-signature")
    assert namespace["verify"](subscription.secret, header, request.data) is True
    assert namespace["verify"]("whsec_wrong", header, request.data) is False
    assert namespace["verify"](subscription.secret, header, request.data + b" ") is False  # type: ignore[operator]


def test_rotating_the_secret_signs_with_the_new_one(manager: Client) -> None:
    subscription = _subscription()
    old = subscription.secret
    assert manager.get(reverse("webhooks:rotate_secret", args=[subscription.pk])).status_code == 405
    response = manager.post(reverse("webhooks:rotate_secret", args=[subscription.pk]), follow=True)
    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret.startswith("whsec_")
    assert "has a new signing secret" in response.content.decode()
    request = webhooks.request_for(_delivery(subscription), now=1_700_000_000)
    expected = hmac.new(subscription.secret.encode(), b"1700000000." + request.data, hashlib.sha256).hexdigest()  # type: ignore[operator]
    assert request.get_header("X-deskpilot-signature") == f"t=1700000000,v1={expected}"


# --- toggle and delete -----------------------------------------------------------------------------


def test_deactivate_and_activate(manager: Client) -> None:
    subscription = _subscription()
    url = reverse("webhooks:toggle", args=[subscription.pk])
    assert manager.post(url).status_code == 302
    subscription.refresh_from_db()
    assert subscription.active is False
    row = manager.get(reverse("webhooks:list")).content.decode().split(f'id="webhook-{subscription.pk}"')[1]
    assert "Off · turn on" in row.split("</tr>")[0]
    manager.post(url, {"active": "on"})
    subscription.refresh_from_db()
    assert subscription.active is True


def test_delete_asks_first_and_takes_the_log_with_it(manager: Client) -> None:
    subscription = _subscription()
    _delivery(subscription)
    other = _subscription(name="Other")
    _delivery(other)
    url = reverse("webhooks:delete", args=[subscription.pk])
    confirm = manager.get(url)
    assert confirm.status_code == 200
    assert "Delete the webhook “CRM”?" in confirm.content.decode()
    assert "1 delivery" in confirm.content.decode()
    assert WebhookSubscription.objects.count() == 2
    response = manager.post(url)
    assert response.status_code == 302
    assert list(WebhookSubscription.objects.values_list("name", flat=True)) == ["Other"]
    assert list(WebhookDelivery.objects.values_list("subscription_id", flat=True)) == [other.pk]


# --- test events and redelivery through the delivery machinery -------------------------------------


def test_a_test_event_is_delivered_signed_and_shown_in_the_log(
    manager: Client, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription = _subscription(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("webhooks:send_test", args=[subscription.pk]))
    delivery = WebhookDelivery.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhooks:deliveries", args=[subscription.pk]) + f"#delivery-{delivery.pk}"
    assert (delivery.event_type, delivery.status, delivery.response_code, delivery.attempts) == (
        "webhook.test", DeliveryStatus.DELIVERED, 200, 1,
    )  # fmt: skip
    [request] = receiver.requests
    parts = dict(item.split("=", 1) for item in request["headers"]["X-Deskpilot-Signature"].split(","))
    expected = hmac.new(subscription.secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    payload = json.loads(request["body"])
    assert payload["type"] == "webhook.test"
    assert payload["data"]["subscription"] == {"id": subscription.pk, "name": "CRM"}
    log = manager.get(response["Location"]).content.decode()
    row = log.split(f'id="delivery-{delivery.pk}"')[1].split("</tr>")[0]
    assert "<code>webhook.test</code>" in row
    assert "Delivered" in row
    assert "<td>200</td>" in row


def test_a_test_event_to_slack_is_a_line_of_text(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> None:
    subscription = _subscription(url=receiver.url, format=WebhookFormat.SLACK)
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.send_test(subscription)
    assert json.loads(receiver.requests[0]["body"]) == {"text": "Test event from Deskpilot: “CRM” reaches this channel"}


def test_no_test_event_for_a_webhook_that_is_off(manager: Client) -> None:
    subscription = _subscription()
    webhooks.set_subscription_active(subscription, False)
    response = manager.post(reverse("webhooks:send_test", args=[subscription.pk]), follow=True)
    assert "No test event sent: active: the subscription is off; turn it on to send a test event" in (
        response.content.decode()
    )
    assert WebhookDelivery.objects.count() == 0


def test_a_failed_delivery_is_redelivered(
    manager: Client, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription = _subscription(url=receiver.url)
    failed = _delivery(subscription, status=DeliveryStatus.FAILED, attempts=6, response_code=503, last_error="HTTP 503")
    detail_url = reverse("webhooks:delivery", args=[subscription.pk, failed.pk])
    assert "Redeliver" in manager.get(detail_url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(reverse("webhooks:redeliver", args=[subscription.pk, failed.pk]))
    assert response.status_code == 302
    assert response["Location"] == detail_url
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.response_code, failed.last_error) == (
        DeliveryStatus.DELIVERED, 1, 200, "",
    )  # fmt: skip
    # The same event id: a receiver that saw the event before can tell.
    assert receiver.requests[0]["headers"]["X-Deskpilot-Delivery"] == failed.event_id
    assert "Redeliver" not in manager.get(detail_url).content.decode()


def test_only_a_failed_delivery_is_redelivered(manager: Client) -> None:
    subscription = _subscription()
    delivered = _delivery(subscription, status=DeliveryStatus.DELIVERED, attempts=1, response_code=200)
    response = manager.post(reverse("webhooks:redeliver", args=[subscription.pk, delivered.pk]), follow=True)
    assert "Not redelivered: delivery: only a failed delivery can be redelivered" in response.content.decode()
    delivered.refresh_from_db()
    assert (delivered.status, delivered.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_two_redeliveries_at_once_queue_it_once() -> None:
    subscription = _subscription()
    failed = _delivery(subscription, status=DeliveryStatus.FAILED, attempts=6)
    stale = WebhookDelivery.objects.select_related("subscription").get(pk=failed.pk)
    webhooks.redeliver(failed)
    with pytest.raises(InvalidInput, match="only a failed delivery"):
        webhooks.redeliver(stale)


def test_a_delivery_of_another_webhook_is_a_404(manager: Client) -> None:
    subscription = _subscription()
    other = _subscription(name="Other")
    theirs = _delivery(other, status=DeliveryStatus.FAILED)
    assert manager.get(reverse("webhooks:delivery", args=[subscription.pk, theirs.pk])).status_code == 404
    assert manager.post(reverse("webhooks:redeliver", args=[subscription.pk, theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == DeliveryStatus.FAILED


# --- the delivery log ------------------------------------------------------------------------------


def test_a_hostile_response_body_and_payload_are_shown_as_text(
    manager: Client, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    """What an endpoint answered and what a customer wrote are text on the page, never markup."""
    receiver.status, receiver.body = 500, HOSTILE.encode()
    subscription = _subscription(url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.queue_events(
            [{"id": "evt_hostile", "type": "ticket.created", "created_at": timezone.now(),
              "data": {"ticket": {"id": 7, "subject": HOSTILE}}}]
        )[0]  # fmt: skip
    delivery.refresh_from_db()
    assert delivery.response_body == HOSTILE
    assert delivery.response_code == 500
    WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=HOSTILE)
    detail = manager.get(reverse("webhooks:delivery", args=[subscription.pk, delivery.pk])).content.decode()
    assert HOSTILE not in detail
    assert "<script>alert" not in detail
    assert "<img src=x" not in detail
    assert f'<pre class="raw">{HOSTILE_ESCAPED}</pre>' in detail
    # The payload, pretty-printed (one key a line), with the hostile subject escaped inside it.
    assert escape(f'"subject": {json.dumps(HOSTILE)}') in detail
    assert "\n  &quot;data&quot;: {\n    &quot;ticket&quot;: {" in detail
    log = manager.get(reverse("webhooks:deliveries", args=[subscription.pk])).content.decode()
    assert "<script>alert" not in log
    assert "&lt;script&gt;alert" in log


def test_the_log_is_newest_first_and_paginated(manager: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery_log, "PAGE_SIZE", 2)
    subscription = _subscription()
    other = _subscription(name="Other")
    _delivery(other)
    start = timezone.now() - datetime.timedelta(hours=1)
    made = [_delivery(subscription, created_at=start + datetime.timedelta(minutes=i)) for i in range(5)]
    newest_first = [d.pk for d in reversed(made)]

    def ids(body: str) -> list[int]:
        return [int(chunk.split('"')[0]) for chunk in body.split('<tr id="delivery-')[1:]]

    url = reverse("webhooks:deliveries", args=[subscription.pk])
    seen: list[int] = []
    pages = 0
    while url:
        response = manager.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        seen += ids(body)
        pages += 1
        next_link = body.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in body else ""
        url = (
            reverse("webhooks:deliveries", args=[subscription.pk]) + next_link.replace("&amp;", "&")
            if next_link
            else ""
        )
    assert (seen, pages) == (newest_first, 3)


def test_the_log_filters_by_status(manager: Client) -> None:
    subscription = _subscription()
    failed = _delivery(subscription, status=DeliveryStatus.FAILED)
    _delivery(subscription, status=DeliveryStatus.DELIVERED)
    body = manager.get(reverse("webhooks:deliveries", args=[subscription.pk]) + "?status=failed").content.decode()
    assert body.count('<tr id="delivery-') == 1
    assert f'id="delivery-{failed.pk}"' in body


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("?status=exploded", "status: exploded is not a status; choose from: queued, delivered, failed"),
        ("?cursor=not-a-cursor", "is not a cursor from this list (or the sort order changed)"),
    ],
)
def test_a_bad_filter_or_cursor_is_a_422_that_says_why(manager: Client, query: str, problem: str) -> None:
    subscription = _subscription()
    _delivery(subscription)
    response = manager.get(reverse("webhooks:deliveries", args=[subscription.pk]) + query)
    assert response.status_code == 422
    assert problem in response.content.decode()


def test_the_log_costs_the_same_queries_for_3_or_40_deliveries(
    manager: Client, django_assert_max_num_queries: Any
) -> None:
    subscription = _subscription()
    for _ in range(3):
        _delivery(subscription, status=DeliveryStatus.FAILED, last_error="HTTP 500", response_code=500)
    url = reverse("webhooks:deliveries", args=[subscription.pk])
    manager.get(url)  # warm the session
    # Session, user, subscription, the page of deliveries; and what the layout itself reads.
    with django_assert_max_num_queries(4 + LAYOUT_QUERIES) as small:
        response = manager.get(url)
    assert response.content.decode().count('<tr id="delivery-') == 3
    for _ in range(37):
        _delivery(subscription, status=DeliveryStatus.DELIVERED, response_code=200)
    with django_assert_max_num_queries(len(small)):
        response = manager.get(url)
    assert response.content.decode().count('<tr id="delivery-') == 40


def test_the_list_shows_the_last_delivery_and_recent_failures_at_a_fixed_cost(
    manager: Client, django_assert_max_num_queries: Any
) -> None:
    now = timezone.now()

    def add(count: int) -> list[WebhookSubscription]:
        made = []
        for _ in range(count):
            subscription = _subscription(name=f"Hook {WebhookSubscription.objects.count()}")
            _delivery(subscription, status=DeliveryStatus.FAILED, created_at=now - datetime.timedelta(days=8))
            _delivery(subscription, status=DeliveryStatus.FAILED, created_at=now - datetime.timedelta(days=2))
            _delivery(subscription, status=DeliveryStatus.FAILED, created_at=now - datetime.timedelta(hours=3))
            _delivery(subscription, status=DeliveryStatus.DELIVERED, created_at=now - datetime.timedelta(hours=1))
            made.append(subscription)
        return made

    first = add(2)[0]
    quiet = _subscription(name="Quiet")
    url = reverse("webhooks:list")
    manager.get(url)  # warm the session
    # Session, user, subscriptions (with their last delivery), failures of the week; and what
    # the layout itself reads.
    with django_assert_max_num_queries(4 + LAYOUT_QUERIES) as small:
        body = manager.get(url).content.decode()
    row = body.split(f'id="webhook-{first.pk}"')[1].split("</tr>")[0]
    assert "Delivered" in row
    assert f'href="/manage/webhooks/{first.pk}/deliveries?status=failed"><strong>2</strong>' in row
    quiet_row = body.split(f'id="webhook-{quiet.pk}"')[1].split("</tr>")[0]
    assert "None yet" in quiet_row
    assert "<td>0</td>" in quiet_row
    add(10)
    with django_assert_max_num_queries(len(small)):
        body = manager.get(url).content.decode()
    assert body.count('<tr id="webhook-') == 13
