"""Reading many tickets' events fast, for the bulk paths that replay them (the SLA clock rebuild,
the metrics record live and rebuilt).

A raw cursor rather than the ORM: model instances, and Django's decoding of every event's JSON,
cost more than the work done with them. A message's JSON is reduced by the database to the two
facts these readers use (public, and the author's role): messages are a third of the events and
each differs, so decoding them would dominate. SQLite's time column is read as its text, parsed
directly (the backend's general converter is several times slower).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from deskpilot.core.db import prepared_cursor
from deskpilot.tickets.models import TicketEvent


@dataclass(slots=True)
class EventRow:
    """The part of a TicketEvent the bulk readers use."""

    id: int
    field: str
    new: Any
    created_at: datetime.datetime
    actor_customer_id: int | None


def read_events(
    first: int, last: int, fields: Sequence[str], *, without_values: Collection[str] = ()
) -> Iterator[tuple[int, EventRow]]:
    """The events of tickets first..last with these ``fields``, in ticket and time order. Events of
    the ``without_values`` fields come without their value (None: only that and when they happened
    is read); repeated scalar values (statuses, ids) are decoded once."""
    table = TicketEvent._meta.db_table
    sqlite = connection.vendor == "sqlite"
    bare = ["message", *without_values]
    in_bare = ", ".join(["%s"] * len(bare))
    if sqlite:
        columns = (
            f"CASE WHEN field IN ({in_bare}) THEN NULL ELSE new END, json_extract(new, '$.public'), "
            "json_extract(new, '$.author_role'), created_at || ''"
        )
    else:
        columns = (
            f"CASE WHEN field IN ({in_bare}) THEN NULL ELSE new END, (new ->> 'public') = 'true', "
            "new ->> 'author_role', created_at"
        )
    # Only the table name (from the model), fixed expressions and placeholders are formatted in.
    sql = (
        f"SELECT ticket_id, id, field, {columns}, actor_customer_id FROM {table} "
        f"WHERE ticket_id BETWEEN %s AND %s AND field IN ({', '.join(['%s'] * len(fields))}) "
        "ORDER BY ticket_id, created_at, id"
    )
    scalars: dict[str, Any] = {}
    fromisoformat = datetime.datetime.fromisoformat
    with prepared_cursor() as cursor:
        cursor.execute(sql, [*bare, first, last, *fields])
        # The driver's own cursor: iterating Django's wrapper costs a Python call per row.
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
