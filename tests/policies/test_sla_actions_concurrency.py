"""Two managers changing one SLA policy at once (PostgreSQL's row locks): deleting it while it is
updated neither deadlocks nor turns the saved update into an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.db.models.signals import post_delete, pre_save

from deskpilot.policies import sla_actions
from deskpilot.policies.models import SlaPolicy, SlaTarget

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"),
]


def test_a_delete_and_an_update_of_one_policy_at_once() -> None:
    """The delete removes the targets first and waits there until the update holds the policy's
    row; then it waits for the update to commit. Both finish, in that order."""
    policy = SlaPolicy.objects.create(name="P")
    SlaTarget.objects.create(policy=policy, metric="first_reply", priority="normal", minutes=60)
    update_holds_the_row = threading.Event()
    errors: dict[str, BaseException] = {}

    def after_target_deleted(sender: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "deleter":
            update_holds_the_row.wait(5)

    def before_policy_saved(sender: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "updater":
            update_holds_the_row.set()

    def run(name: str, work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as error:  # reported by the assertion below
            errors[name] = error
        finally:
            connections.close_all()

    post_delete.connect(after_target_deleted, sender=SlaTarget, dispatch_uid="test-concurrency-delete")
    pre_save.connect(before_policy_saved, sender=SlaPolicy, dispatch_uid="test-concurrency-save")
    try:
        deleter = threading.Thread(
            name="deleter", target=run, args=("deleter", lambda: sla_actions.delete_sla_policy(policy))
        )
        updater = threading.Thread(
            name="updater",
            target=run,
            args=("updater", lambda: sla_actions.update_sla_policy(policy, description="Changed")),
        )
        deleter.start()
        time.sleep(0.5)  # the delete is under way, waiting after the targets
        updater.start()
        deleter.join(30)
        updater.join(30)
    finally:
        post_delete.disconnect(sender=SlaTarget, dispatch_uid="test-concurrency-delete")
        pre_save.disconnect(sender=SlaPolicy, dispatch_uid="test-concurrency-save")
    assert not deleter.is_alive()
    assert not updater.is_alive()
    assert not errors, {name: repr(error) for name, error in errors.items()}
    assert not SlaPolicy.objects.filter(pk=policy.pk).exists()
