"""Whether the SLA configuration changed: what every process's caches of it key on (the compiled
policies, ``sla.active_policies``; the calendar assignments, ``calendar_choice.current``).

Triggers on the configuration's tables (``WATCHED``: policies, targets, calendars, their hours and
holidays, the default, team and organization calendars) add a ``ConfigChange`` row with a random
token for every insert, update and delete, in the writing transaction, whatever makes it: the
actions, the admin, a cascade, a bulk write, raw SQL, a migration. ``stamp()`` reads the rows'
count and token sum in one statement:

- a change shows to other processes when it commits (the row is part of its transaction), and a
  rolled-back one leaves no trace: a later change adds another random token, never the same sum;
- the rows are inserted, never updated, so two transactions changing the configuration at once
  never wait on each other for them (a shared counter row did, and could deadlock against the
  policy's own row lock);
- ``compact`` (the SLA sweep, every minute) folds the rows into one, keeping the count small;
  that moves the stamp once, and the caches load again once;
- the token is the row's key: no sequence, which a test database's flush would reset under rows
  left behind.

A ticket change reads the stamp once, whichever receivers ask (``core.per_change``).
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from django.db import connection, transaction

from deskpilot.core import per_change
from deskpilot.core.db import prepared_cursor
from deskpilot.policies.models import (
    BusinessCalendar,
    BusinessInterval,
    ConfigChange,
    CustomHoliday,
    DefaultCalendar,
    OrganizationCalendar,
    SlaPolicy,
    SlaTarget,
    TeamCalendar,
)

_KEY = "policies.config_version"
# The triggers' tokens are below this (migration 0006).
TOKEN_SPAN = 1 << 40
# The tables whose writes the triggers record (migrations 0005 and 0006 create them; a new table
# of the configuration needs its triggers in a migration too).
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
    return f"SELECT COUNT(*), SUM(token) FROM {_table(ConfigChange)}"


def _read() -> tuple[Any, ...]:
    with prepared_cursor() as cursor:
        cursor.execute(_stamp_sql(connection.vendor))
        return tuple(cursor.fetchone())


def stamp() -> tuple[Any, ...]:
    """What the configuration's caches key on: equal stamps, unchanged configuration. One query,
    once per ticket change."""
    return per_change.once(_KEY, _read)


def compact() -> int:
    """Fold the log into one new row (in one transaction: the stamp moves once). Rows still being
    written by other transactions are not seen, and count when they commit. Returns how many
    rows went."""
    table = _table(ConfigChange)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        if cursor.fetchone()[0] <= 1:
            return 0
        cursor.execute(f"DELETE FROM {table}")
        gone = int(cursor.rowcount or 0)
        cursor.execute(f"INSERT INTO {table} (token) VALUES (%s)", [secrets.randbelow(TOKEN_SPAN)])
    return gone
