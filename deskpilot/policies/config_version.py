"""Whether the SLA configuration changed: what every process's caches of it key on (the compiled
policies, ``sla.active_policies``; the calendar assignments, ``calendar_choice.current``).

``stamp()`` reads, in one statement, the ``ConfigVersion`` counter and the policies' and calendars'
count and latest ``updated_at``. The counter moves with every save and delete of a policy, a
target, a calendar, an interval, a holiday or a calendar assignment (signals, so cascades and
queryset deletes count too, and ``_Stamped.touch``), in the transaction of the change; the counts
and times also catch a bulk write that sends no signal. A ticket change reads the stamp once,
whichever receivers ask (``core.per_change``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save

from deskpilot.core import per_change
from deskpilot.core.db import prepared_cursor
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    ConfigVersion,
    CustomHoliday,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)

_KEY = "policies.config_version"
# Whose saves and deletes move the counter.
WATCHED = (
    SlaPolicy,
    SlaTarget,
    BusinessCalendar,
    BusinessInterval,
    CustomHoliday,
    DefaultCalendar,
    TeamCalendar,
    OrganizationCalendar,
)


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _stamp_sql(vendor: str) -> str:
    return (
        f"SELECT (SELECT MAX(version) FROM {_table(ConfigVersion)}), "
        f"(SELECT COUNT(id) FROM {_table(SlaPolicy)}), (SELECT MAX(updated_at) FROM {_table(SlaPolicy)}), "
        f"(SELECT COUNT(id) FROM {_table(BusinessCalendar)}), (SELECT MAX(updated_at) FROM {_table(BusinessCalendar)})"
    )


def _read() -> tuple[Any, ...]:
    with prepared_cursor() as cursor:
        cursor.execute(_stamp_sql(connection.vendor))
        return tuple(cursor.fetchone())


def stamp() -> tuple[Any, ...]:
    """What the configuration's caches key on: equal stamps, unchanged configuration. One query,
    once per ticket change."""
    return per_change.once(_KEY, _read)


@functools.cache
def _bump_sql(vendor: str) -> str:
    table = _table(ConfigVersion)
    # An upsert: the row may be missing (a new database, a flushed test database).
    return (
        f"INSERT INTO {table} (id, version) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET version = {table}.version + 1"
    )


def bump() -> None:
    """Move the counter (inside the change's transaction: other processes see it on commit)."""
    with connection.cursor() as cursor:
        cursor.execute(_bump_sql(connection.vendor))
    per_change.forget(_KEY)


def _on_change(sender: Any, **kwargs: Any) -> None:
    bump()


def connect() -> None:
    for model in WATCHED:
        uid = f"deskpilot.policies.config_version.{model.__name__}"
        post_save.connect(_on_change, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"{uid}.delete")
