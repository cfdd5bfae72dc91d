"""Webhook jobs (deskpilot.automation.tasks) on real queues, SqliteHuey and RedisHuey
(DESKPILOT_TEST_REDIS_URL), against a real receiver on 127.0.0.1.

tests/automation/test_webhooks.py covers the delivery code itself (signatures, formats, the
backoff schedule to the last attempt, redirects, the SSRF guard) by calling it directly; here the
same deliveries go through the queue's storage as in production: the job a change enqueues, the
sweep every minute, the same job queued twice, and workers that die holding a job or in the
middle of an attempt.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils.module_loading import autodiscover_modules
from huey.api import Huey, PeriodicTask
from huey.contrib.djhuey import HUEY

from deskpilot.automation import tasks as webhook_tasks
from deskpilot.automation import webhooks
from deskpilot.automation.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from deskpilot.core import outbox
from tests import factories
from tests.automation import test_webhooks
from tests.automation.test_webhooks import Receiver, _verify
from tests.queues import BACKENDS, consumer_pass, new_queue, periodic_like, runs_every_minute

pytestmark = pytest.mark.django_db

# The loopback receiver of the delivery tests: a ThreadingHTTPServer answering each POST with the
# codes in ``answers`` (200 once they run out) and keeping the requests.
receiver = test_webhooks.receiver

T0 = datetime.datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_the_jobs_are_named_and_the_sweep_runs_every_minute() -> None:
    assert webhook_tasks.deliver_webhook.name == "automation.deliver_webhook"
    assert webhook_tasks.sweep_webhooks.name == "automation.sweep_webhooks"
    assert issubclass(webhook_tasks.sweep_webhooks.task_class, PeriodicTask)
    assert not issubclass(webhook_tasks.deliver_webhook.task_class, PeriodicTask)
    # What the worker (run_huey) finds by importing every app's tasks module.
    autodiscover_modules("tasks")
    registered = set(HUEY._registry._registry)
    for job in (webhook_tasks.deliver_webhook, webhook_tasks.sweep_webhooks):
        assert f"deskpilot.automation.tasks.{job.name}" in registered
    assert "automation.sweep_webhooks" in {t.name for t in HUEY._registry.periodic_tasks}
    assert runs_every_minute(webhook_tasks.sweep_webhooks)


# --- real queues ---------------------------------------------------------------------------------


@dataclass
class Jobs:
    huey: Huey
    deliver: Any
    sweep: Any

    def tick(self, now: datetime.datetime, *, minute: bool = False) -> list[Any]:
        return consumer_pass(self.huey, now, minute=minute)


@pytest.fixture(params=BACKENDS)
def jobs(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Jobs]:
    """A queue of its own (one per test: runs may share Redis) with the webhook jobs under their
    real names; the tests' settings run jobs inline, so they are registered here again, and the
    delivery code's enqueueing is pointed at them."""
    huey = new_queue(request.param, tmp_path, "webhooks")
    queue = Jobs(
        huey=huey,
        deliver=huey.task(name="automation.deliver_webhook")(webhook_tasks.deliver_webhook.call_local),
        sweep=periodic_like(huey, webhook_tasks.sweep_webhooks),
    )
    monkeypatch.setattr(webhook_tasks, "deliver_webhook", queue.deliver)
    try:
        yield queue
    finally:
        huey.storage.flush_all()


def new_ticket_queued(receiver: Receiver, django_capture_on_commit_callbacks: Any) -> tuple[WebhookSubscription, int]:
    """A subscriber to new tickets, and a new ticket: once the creation commits, its delivery is
    a row in the log and a job in the queue."""
    subscription = webhooks.create_subscription(name="CRM", url=receiver.url, events=["ticket.created"])
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        ticket = factories.ticket(subject="Printer on fire")
    return subscription, ticket.pk


def delivery_row() -> tuple[str, int, int | None, datetime.datetime | None]:
    row = WebhookDelivery.objects.get()
    return row.status, row.attempts, row.response_code, row.next_attempt_at


def test_a_delivery_job_from_a_real_queue_is_delivered_signed_once(
    jobs: Jobs, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, ticket_id = new_ticket_queued(receiver, django_capture_on_commit_callbacks)
    assert len(jobs.huey) == 1
    assert receiver.requests == []  # nothing is sent in the request that changed the ticket
    assert delivery_row() == (DeliveryStatus.QUEUED, 0, None, T0)
    delivery_id = WebhookDelivery.objects.get().pk
    jobs.deliver(delivery_id)  # queued twice (a duplicate signal, a redelivery click)
    assert jobs.tick(T0 + datetime.timedelta(seconds=2)) == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
    [request] = receiver.requests  # sent once
    payload = _verify(subscription.secret, request)
    assert (payload["type"], payload["data"]["ticket"]["id"]) == ("ticket.created", ticket_id)
    assert request["headers"]["X-Deskpilot-Delivery"] == WebhookDelivery.objects.get().event_id
    signed_at = int(request["headers"]["X-Deskpilot-Signature"].split(",")[0].removeprefix("t="))
    assert signed_at == int((T0 + datetime.timedelta(seconds=2)).timestamp())  # signed when sent
    assert delivery_row() == (DeliveryStatus.DELIVERED, 1, 200, None)


def test_a_failed_attempt_is_retried_with_backoff_by_the_sweep_job(
    jobs: Jobs, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answers = [500, 503]
    subscription, _ = new_ticket_queued(receiver, django_capture_on_commit_callbacks)
    sent = T0 + datetime.timedelta(seconds=1)
    assert jobs.tick(sent) == [DeliveryStatus.QUEUED]
    first_retry = sent + datetime.timedelta(minutes=webhooks.RETRY_MINUTES[0])
    assert delivery_row() == (DeliveryStatus.QUEUED, 1, 500, first_retry)
    assert WebhookDelivery.objects.get().last_error == "HTTP 500"
    # The job queued again meanwhile, and the sweep of the next minute: neither sends early.
    jobs.deliver(WebhookDelivery.objects.get().pk)
    assert jobs.tick(T0 + datetime.timedelta(minutes=1), minute=True) == [DeliveryStatus.QUEUED, 0]
    assert len(receiver.requests) == 1
    # The sweep once the backoff has passed: the second attempt, failing again, waits longer.
    assert jobs.tick(T0 + datetime.timedelta(minutes=2), minute=True) == [1]
    second_retry = T0 + datetime.timedelta(minutes=2 + webhooks.RETRY_MINUTES[1])
    assert delivery_row() == (DeliveryStatus.QUEUED, 2, 503, second_retry)
    assert jobs.tick(second_retry - datetime.timedelta(minutes=1), minute=True) == [0]
    # Then the receiver is back: delivered on the third attempt, with the same event, signed anew.
    assert jobs.tick(second_retry, minute=True) == [1]
    row = WebhookDelivery.objects.get()
    assert delivery_row() == (DeliveryStatus.DELIVERED, 3, 200, None)
    assert row.last_error == ""
    assert len(receiver.requests) == 3
    payloads = [_verify(subscription.secret, r) for r in receiver.requests]
    assert {p["id"] for p in payloads} == {row.event_id}
    assert jobs.tick(second_retry + datetime.timedelta(minutes=10), minute=True) == [0]


class Killed(BaseException):
    """The worker's process dying: nothing after it runs."""


def test_a_worker_killed_holding_the_delivery_job_loses_nothing(
    jobs: Jobs, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    subscription, _ = new_ticket_queued(receiver, django_capture_on_commit_callbacks)
    with time_machine.travel(T0 + datetime.timedelta(seconds=1), tick=False):
        assert jobs.huey.dequeue() is not None  # a worker takes the job, and is killed before running it
    assert len(jobs.huey) == 0  # the job is gone...
    assert delivery_row() == (DeliveryStatus.QUEUED, 0, None, T0)  # ...the delivery is still due
    assert receiver.requests == []
    # The next minute's sweep sends it.
    assert jobs.tick(T0 + datetime.timedelta(minutes=1), minute=True) == [1]
    assert delivery_row() == (DeliveryStatus.DELIVERED, 1, 200, None)
    [request] = receiver.requests
    assert _verify(subscription.secret, request)["type"] == "ticket.created"


def test_a_worker_killed_in_the_middle_of_an_attempt_loses_nothing(
    jobs: Jobs, receiver: Receiver, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after claiming the delivery, before it knew the answer: the claim is a lease, so the
    delivery is due again once it has passed, and no other worker sends it meanwhile."""
    new_ticket_queued(receiver, django_capture_on_commit_callbacks)
    real_open = webhooks._opener.open

    def die(*args: Any, **kwargs: Any) -> Any:
        raise Killed

    monkeypatch.setattr(webhooks._opener, "open", die)
    started = T0 + datetime.timedelta(seconds=1)
    with pytest.raises(Killed):
        jobs.tick(started)
    monkeypatch.setattr(webhooks._opener, "open", real_open)
    assert len(jobs.huey) == 0
    assert delivery_row() == (DeliveryStatus.QUEUED, 0, None, started + outbox.LEASE)
    lease_minutes = int(outbox.LEASE.total_seconds() // 60)
    for minute in range(1, lease_minutes):
        assert jobs.tick(T0 + datetime.timedelta(minutes=minute), minute=True) == [0]
    assert receiver.requests == []
    assert jobs.tick(T0 + datetime.timedelta(minutes=lease_minutes + 1), minute=True) == [1]
    assert delivery_row() == (DeliveryStatus.DELIVERED, 1, 200, None)
    assert len(receiver.requests) == 1


def test_two_sweeps_at_once_send_each_delivery_once(
    jobs: Jobs, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    webhooks.create_subscription(name="CRM", url=receiver.url, events=["ticket.created"])
    with time_machine.travel(T0, tick=False):
        # Queued without the commit hooks running: the delivery is due, and no job was queued.
        webhooks.queue_events(
            [{"id": f"evt_{uuid.uuid4().hex}", "type": "ticket.created", "created_at": T0, "data": {}}]
        )
    assert WebhookDelivery.objects.count() == 1
    assert len(jobs.huey) == 0
    with time_machine.travel(T0 + datetime.timedelta(minutes=1), tick=False):
        jobs.sweep()
        jobs.sweep()  # two consumers' schedulers, each enqueueing the minute's sweep
    assert sorted(jobs.tick(T0 + datetime.timedelta(minutes=1))) == [0, 1]
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0]["body"])["type"] == "ticket.created"


def test_a_sweep_outliving_its_lease_sends_nothing_twice(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker A's sweep claims the due deliveries and attempts them one by one; receivers that each
    take six minutes (timeouts piling up) make the batch outlast its ten-minute lease, and worker
    B's sweep at minute eleven must not take the one A is about to attempt."""
    webhooks.create_subscription(name="CRM", url=receiver.url, events=["ticket.created"])
    with time_machine.travel(T0, tick=False):
        webhooks.queue_events(
            [{"id": f"evt_{uuid.uuid4().hex}", "type": "ticket.created", "created_at": T0, "data": {}} for _ in "ab"]
        )
    real_open = webhooks._opener.open
    calls: list[int] = []
    other_worker: list[int] = []  # what B's sweep attempted (an error raised in here would be taken for the receiver's)
    with time_machine.travel(T0 + datetime.timedelta(minutes=1), tick=False) as clock:

        def slow_open(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) == 2:  # A's second attempt; B sweeps while it waits
                clock.shift(datetime.timedelta(minutes=5))
                other_worker.append(webhooks.sweep())
            answer = real_open(*args, **kwargs)
            clock.shift(datetime.timedelta(minutes=6 if len(calls) == 1 else 1))
            return answer

        monkeypatch.setattr(webhooks._opener, "open", slow_open)
        assert webhooks.sweep() == 2
    assert other_worker == [0]
    sent = [json.loads(r["body"])["id"] for r in receiver.requests]
    assert len(sent) == 2
    assert len(set(sent)) == 2
    assert (
        list(WebhookDelivery.objects.values_list("attempts", "status", "last_error"))
        == [(1, DeliveryStatus.DELIVERED, "")] * 2
    )
