"""Reading tickets' metric events fast, for the live path (one ticket) and the rebuild (a range).

A raw cursor rather than the ORM: model instances, and Django's decoding of every event's JSON,
cost more than the metrics themselves. Both paths read through here, so they see the same values.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection

from deskpilot.analytics.metrics import METRIC_FIELDS
from deskpilot.tickets.models import TicketEvent


@dataclass(slots=True)
class EventRow:
    """The part of a TicketEvent the metrics read."""

    id: int
    field: str
    new: Any
    created_at: datetime.datetime
    actor_customer_id: int | None


def read_events(first: int, last: int) -> Iterator[tuple[int, EventRow]]:
    """The metric events of tickets first..last in ticket and time order. As in the SLA rebuild, a
    message's JSON is reduced by the database to the two facts read (public, author role), a
    breach finding to nothing (only its time counts), and repeated scalar values (statuses, ids)
    are decoded once."""
    fields = ", ".join(["%s"] * len(METRIC_FIELDS))
    table = TicketEvent._meta.db_table
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        columns = (
            "CASE WHEN field IN ('message', 'sla') THEN NULL ELSE new END, json_extract(new, '$.public'), "
            "json_extract(new, '$.author_role'), created_at || ''"
        )
    else:
        columns = (
            "CASE WHEN field IN ('message', 'sla') THEN NULL ELSE new END, (new ->> 'public') = 'true', "
            "new ->> 'author_role', created_at"
        )
    # Only the table name (from the model), fixed expressions and placeholders are formatted in.
    sql = (
        f"SELECT ticket_id, id, field, {columns}, actor_customer_id FROM {table} "
        f"WHERE ticket_id BETWEEN %s AND %s AND field IN ({fields}) ORDER BY ticket_id, created_at, id"
    )
    scalars: dict[str, Any] = {}
    fromisoformat = datetime.datetime.fromisoformat
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, last, *METRIC_FIELDS])
        for ticket_id, event_id, field, new, public, role, created_at, actor in cursor.cursor:
            if field == "message":
                new = {"public": bool(public), "author_role": role}
            elif isinstance(new, str):
                if new[0] == "{":
                    new = json.loads(new)
                else:
                    text = new
                    new = scalars.get(text, scalars)
                    if new is scalars:
                        new = scalars[text] = json.loads(text)
            if sqlite:
                created_at = fromisoformat(created_at + "+00:00")
            yield ticket_id, EventRow(event_id, field, new, created_at, actor)
