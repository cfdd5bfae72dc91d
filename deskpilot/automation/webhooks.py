"""Webhooks: ticket events sent to other systems, signed, with retries and a delivery log.

A ticket change (``tickets.signals.ticket_changed``, after commit) becomes events —
``ticket.created``, ``ticket.updated``, ``message.created`` — and each event one
``WebhookDelivery`` per active subscription that wants it. The job worker POSTs it
(``automation.deliver_webhook``); a failure is retried with backoff, and a sweep every minute
sends what a lost job left queued. The SLA clocks' findings become ``sla.warning`` and
``sla.breached`` (one per target), a move on the escalation ladder ``ticket.escalated``.

Every JSON request is signed: ``X-Deskpilot-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the subscription's secret>``. A receiver recomputes it and rejects old
timestamps, so a captured request cannot be replayed later. Slack and Teams formats post a line
of text to the channel's incoming-webhook URL instead (those services sign nothing).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from deskpilot.automation.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookFormat,
    WebhookSubscription,
    new_secret,
)
from deskpilot.core import outbox
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets.models import Message, Ticket, TicketEvent

logger = logging.getLogger(__name__)

EVENT_TYPES = ("ticket.created", "ticket.updated", "message.created", "sla.warning", "sla.breached", "ticket.escalated")
# Events that are announced as their own types, not as ticket.updated changes.
_OWN_TYPES = frozenset({"created", "message", "sla", "sla_policy", "sla_pin", "escalation"})
TIMEOUT_SECONDS = 10
# Minutes before the 2nd, 3rd, ... attempt; after the last, the delivery is failed.
RETRY_MINUTES = (1, 5, 30, 120, 360)
RESPONSE_KEEP_CHARS = 2000
USER_AGENT = "Deskpilot-Webhooks/1"


# --- subscriptions ---------------------------------------------------------------------------------


def _is_private(host: str) -> bool:
    """True when ``host`` is or resolves to an address inside this network (loopback, private,
    link-local, reserved): a webhook there could read internal services (SSRF)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable now: the delivery will fail and say so
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            return True
    return False


def clean_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("url", "must be an http:// or https:// address")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _is_private(parts.hostname):
        raise InvalidInput(
            "url",
            f"{parts.hostname} is an address inside this network; set DESKPILOT_WEBHOOK_ALLOW_PRIVATE to allow it",
        )
    return url.strip()


def clean_events(events: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise InvalidInput("events", "choose at least one event")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise InvalidInput("events", f"{unknown[0]!r} is not one of: {', '.join(EVENT_TYPES)}")
    return chosen


def _clean_subscription(*, name: str, url: str, events: Sequence[str], format: str) -> dict[str, Any]:
    if not name.strip():
        raise InvalidInput("name", "must not be empty")
    if format not in WebhookFormat.values:
        raise InvalidInput("format", f"{format!r} is not one of: {', '.join(WebhookFormat.values)}")
    return {"name": name.strip()[:100], "url": clean_url(url), "events": clean_events(events), "format": format}


def create_subscription(
    *, name: str, url: str, events: Sequence[str], format: str = WebhookFormat.JSON, created_by: Any = None
) -> WebhookSubscription:
    fields = _clean_subscription(name=name, url=url, events=events, format=format)
    return WebhookSubscription.objects.create(**fields, created_by=created_by)


def update_subscription(
    subscription: WebhookSubscription, *, name: str, url: str, events: Sequence[str], format: str
) -> WebhookSubscription:
    """Checked like a new one. Queued deliveries go to the new URL in the new format: both are
    read at each attempt."""
    fields = _clean_subscription(name=name, url=url, events=events, format=format)
    for key, value in fields.items():
        setattr(subscription, key, value)
    subscription.save(update_fields=list(fields))
    return subscription


def set_subscription_active(subscription: WebhookSubscription, active: bool) -> None:
    """Turned off, it gets no new deliveries, and queued ones fail at their next attempt."""
    subscription.active = active
    subscription.save(update_fields=["active"])


def rotate_secret(subscription: WebhookSubscription) -> str:
    """A new signing secret, in force at once: every attempt from now on (retries of earlier
    events too) is signed with it, because the signature is computed when a request is sent."""
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret"])
    return subscription.secret


# --- events ----------------------------------------------------------------------------------------


def _ticket_data(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "channel": ticket.channel,
        "requester_id": ticket.requester_id,
        "organization_id": ticket.organization_id,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "version": ticket.version,
    }


def events_for_change(ticket_id: int, fields: Sequence[str]) -> list[dict[str, Any]]:
    """The webhook events one ticket change makes, built from the change's TicketEvents (the
    newest event of each changed field)."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return []
    latest: dict[str, TicketEvent] = {}
    findings: list[TicketEvent] = []
    for event in TicketEvent.objects.filter(ticket_id=ticket_id, field__in=list(fields)).order_by("-id")[:50]:
        latest.setdefault(event.field, event)
        if event.field == "sla" and fields.count("sla") > len(findings):
            findings.append(event)
    base = {"ticket": _ticket_data(ticket)}
    now = timezone.now()
    events = []

    def add(kind: str, data: dict[str, Any]) -> None:
        events.append({"id": f"evt_{uuid.uuid4().hex}", "type": kind, "created_at": now, "data": {**base, **data}})

    if "created" in latest:
        add("ticket.created", {})
    changes = [
        {"field": e.field, "old": e.old, "new": e.new, "via": e.via, "at": e.created_at, "cause": e.cause}
        for name, e in latest.items()
        if name not in _OWN_TYPES
    ]
    if changes and "created" not in latest:
        add("ticket.updated", {"changes": changes})
    for finding in reversed(findings):
        new = finding.new if isinstance(finding.new, dict) else {}
        kind = "sla.breached" if new.get("kind") == "breach" else "sla.warning"
        add(kind, {"sla": {**new, "at": finding.created_at}})
    escalation = latest.get("escalation")
    if escalation is not None and isinstance(escalation.new, dict):
        add(
            "ticket.escalated",
            {"escalation": {**escalation.new, "from": (escalation.old or {}).get("level"), "at": escalation.created_at,
                            "cause": escalation.cause}},
        )  # fmt: skip
    message_event = latest.get("message")
    if message_event is not None and message_event.message_id is not None:
        message = Message.objects.filter(pk=message_event.message_id).first()
        if message is not None:
            add(
                "message.created",
                {
                    "message": {
                        "id": message.pk,
                        "public": message.public,
                        "author_user_id": message.author_user_id,
                        "author_customer_id": message.author_customer_id,
                        "body_text": message.body_text,
                        "via": message.via,
                        "created_at": message.created_at,
                    }
                },
            )
    return events


def queue_events(events: Sequence[dict[str, Any]]) -> list[WebhookDelivery]:
    """One delivery per (event, subscription that wants it); sent after commit."""
    if not events:
        return []
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    queued = []
    now = timezone.now()
    for event in events:
        payload = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
        for subscription in subscriptions:
            if event["type"] not in subscription.events:
                continue
            try:
                with transaction.atomic():
                    queued.append(
                        WebhookDelivery.objects.create(
                            subscription=subscription,
                            event_id=event["id"],
                            event_type=event["type"],
                            payload=payload,
                            next_attempt_at=now,
                        )
                    )
            except IntegrityError:
                continue  # queued already (a duplicate signal)
    ids = [d.pk for d in queued]
    transaction.on_commit(lambda: _enqueue(ids))
    return queued


def _enqueue(ids: list[int]) -> None:
    from deskpilot.automation.tasks import deliver_webhook

    for delivery_id in ids:
        try:
            deliver_webhook(delivery_id)
        except Exception:
            logger.exception("could not enqueue webhook delivery %s; the sweep will send it", delivery_id)


TEST_EVENT = "webhook.test"


def send_test(subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this one subscription (whatever events it chose), sent
    after commit, signed, retried and logged like every other delivery."""
    if not subscription.active:
        raise InvalidInput("active", "the subscription is off; turn it on to send a test event")
    now = timezone.now()
    event_id = f"evt_{uuid.uuid4().hex}"
    event = {
        "id": event_id,
        "type": TEST_EVENT,
        "created_at": now,
        "data": {"subscription": {"id": subscription.pk, "name": subscription.name}},
    }
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_id=event_id,
        event_type=TEST_EVENT,
        payload=json.loads(json.dumps(event, cls=DjangoJSONEncoder)),
        next_attempt_at=now,
    )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _enqueue([delivery_id]))
    return delivery


def redeliver(delivery: WebhookDelivery) -> None:
    """Queue a failed delivery again, with the same event id (a receiver that saw it before can
    tell) and a fresh round of retries. Only a failed one: a queued one is on its way already, and
    the status condition lets only one of two simultaneous clicks through."""
    if not delivery.subscription.active:
        raise InvalidInput("active", "the subscription is off; turn it on to redeliver")
    requeued = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
    )
    if not requeued:
        raise InvalidInput("delivery", "only a failed delivery can be redelivered")
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _enqueue([delivery_id]))


def on_ticket_changed(sender: Any, *, ticket_id: int, fields: Sequence[str], **kwargs: Any) -> None:
    """Receiver of ``ticket_changed`` (after commit). Cheap when nobody subscribes; a failure is
    logged and never reaches the person who changed the ticket."""
    try:
        if not WebhookSubscription.objects.filter(active=True).exists():
            return
        queue_events(events_for_change(ticket_id, fields))
    except Exception:
        logger.exception("webhook events for ticket %s could not be queued", ticket_id)


# --- delivery --------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _summary(payload: dict[str, Any]) -> str:
    ticket = payload.get("data", {}).get("ticket", {})
    label = f"#{ticket.get('id')} “{ticket.get('subject', '')}”"
    kind = payload.get("type", "")
    if kind == TEST_EVENT:
        name = payload.get("data", {}).get("subscription", {}).get("name", "")
        return f"Test event from Deskpilot: “{name}” reaches this channel"
    if kind == "ticket.created":
        return f"New ticket {label} ({ticket.get('priority')})"
    if kind in ("sla.breached", "sla.warning"):
        finding = payload["data"].get("sla", {})
        metric = str(finding.get("metric", "")).replace("_", " ")
        return f"SLA {'breached' if kind == 'sla.breached' else 'at risk'}: {metric} on {label}"
    if kind == "ticket.escalated":
        level = payload["data"].get("escalation", {}).get("level") or "tier 1"
        return f"{label} escalated to {level}"
    if kind == "message.created":
        message = payload["data"].get("message", {})
        return f"{'Reply' if message.get('public') else 'Internal note'} on {label}"
    changes = payload.get("data", {}).get("changes", [])
    what = ", ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes[:5])
    return f"{label} changed: {what}"


def request_for(delivery: WebhookDelivery, *, now: float | None = None) -> urllib.request.Request:
    subscription = delivery.subscription
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if subscription.format == WebhookFormat.SLACK:
        body = json.dumps({"text": _summary(delivery.payload)}).encode()
    elif subscription.format == WebhookFormat.TEAMS:
        body = json.dumps(
            {"@type": "MessageCard", "@context": "https://schema.org/extensions", "text": _summary(delivery.payload)}
        ).encode()
    else:
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        timestamp = int(now if now is not None else time.time())
        headers["X-Deskpilot-Event"] = delivery.event_type
        headers["X-Deskpilot-Delivery"] = delivery.event_id
        headers["X-Deskpilot-Signature"] = f"t={timestamp},v1={signature(subscription.secret, timestamp, body)}"
    if urlsplit(subscription.url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {subscription.url!r}")
    # The scheme is checked just above (and when the subscription was saved): no file: URLs.
    return urllib.request.Request(subscription.url, data=body, headers=headers, method="POST")  # noqa: S310


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead a signed request to an address nobody approved.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def deliver(delivery_id: int, *, now: datetime.datetime | None = None, claimed: bool = False) -> str:
    """Attempt one delivery (idempotent: a delivered or failed one is left alone). Returns the
    status afterwards."""
    now = now or timezone.now()
    # Claim the attempt first, so two workers never send the same delivery at once.
    if not claimed and not outbox.claim(WebhookDelivery, delivery_id, queued=DeliveryStatus.QUEUED, now=now):
        row = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        return str(row or "missing")
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    attempts = delivery.attempts + 1
    code: int | None = None
    body = ""
    error = ""
    try:
        if not delivery.subscription.active:
            raise RuntimeError("the subscription was turned off")
        host = urlsplit(delivery.subscription.url).hostname or ""
        # Checked again at each attempt: a name can be made to resolve elsewhere later.
        if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and _is_private(host):
            raise RuntimeError(f"{host} resolves to an address inside this network; not sent")
        with _opener.open(request_for(delivery), timeout=TIMEOUT_SECONDS) as response:
            code = response.status
            body = response.read(RESPONSE_KEEP_CHARS).decode("utf-8", "replace")
    except urllib.error.HTTPError as failure:
        code = failure.code
        body = failure.read(RESPONSE_KEEP_CHARS).decode("utf-8", "replace") if failure.fp else ""
        error = f"HTTP {failure.code}"
    except Exception as failure:  # connection refused, timeout, DNS, TLS
        error = f"{type(failure).__name__}: {failure}"
    succeeded = code is not None and 200 <= code < 300
    fields: dict[str, Any] = {"attempts": attempts, "response_code": code, "response_body": body[:RESPONSE_KEEP_CHARS]}
    if succeeded:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None, last_error="")
    elif attempts > len(RETRY_MINUTES):
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=error)
    else:
        wait = datetime.timedelta(minutes=RETRY_MINUTES[attempts - 1])
        fields.update(next_attempt_at=now + wait, last_error=error)
    WebhookDelivery.objects.filter(pk=delivery_id).update(**fields)
    return str(fields.get("status", DeliveryStatus.QUEUED))


SWEEP_BATCH = 100


def sweep(now: datetime.datetime | None = None) -> int:
    """Attempt every delivery whose time has come (what a lost job left queued, and retries),
    claimed in batches (core.outbox) so two workers' sweeps never attempt the same one."""
    now = now or timezone.now()
    attempted = 0
    while True:
        ids = outbox.claim_due(WebhookDelivery, queued=DeliveryStatus.QUEUED, now=now, limit=SWEEP_BATCH)
        for delivery_id in ids:
            # Receivers that time out one after another can make a batch outlast its lease: each
            # claim is renewed at the moment of its attempt, and one another worker has taken
            # meanwhile is left to it. The attempt (and its backoff) counts from that moment.
            moment = max(now, timezone.now())
            if not outbox.renew(
                WebhookDelivery, delivery_id, queued=DeliveryStatus.QUEUED, held_until=now + outbox.LEASE, now=moment
            ):
                continue
            try:
                deliver(delivery_id, now=moment, claimed=True)
                attempted += 1
            except Exception:
                logger.exception("webhook delivery %s could not be attempted", delivery_id)
        if len(ids) < SWEEP_BATCH:
            return attempted
