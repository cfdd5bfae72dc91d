"""Webhook jobs: one delivery, and the sweep that sends what is due (retries, lost jobs)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from deskpilot.automation import webhooks


@db_task(name="automation.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    return webhooks.deliver(delivery_id)


@db_periodic_task(crontab(minute="*"), name="automation.sweep_webhooks")
def sweep_webhooks() -> int:
    return webhooks.sweep()


# Routing and rule jobs live beside their code; importing them here registers them with the
# worker, which discovers each app's tasks module only.
from deskpilot.automation import routing_tasks, rule_tasks  # noqa: E402, F401
