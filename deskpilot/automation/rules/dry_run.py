"""A dry run: which recent tickets a rule would have matched. Reads only; acts on nothing.

Triggers: the changes of the last ``DAYS`` days (ticket events through the ``created_at`` index,
newest first, at most ``EVENT_SCAN`` of them), grouped into changes (one action's events share
their instant), each evaluated as the engine would. The ticket's fields are taken as they are
now, with the change's own new values on top, so "priority changed to urgent" and "status is
open" are judged at the change (a field changed later by another change shows its present
value: a dry run is an estimate, and says so). Automations: the tickets that are due now.

Bounded: a fixed number of events scanned, a handful of queries whatever the size of the help
desk, and the list capped at ``SHOW`` tickets; the count of matching tickets is exact for what
was scanned, and the page says when the scan stopped early.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from deskpilot.automation.models import Automation
from deskpilot.automation.rules.automations import due
from deskpilot.automation.rules.conditions import Snapshot, compile_conditions
from deskpilot.automation.rules.engine import OCCURRENCES, author_of, calendar_for
from deskpilot.tickets.models import Message, Ticket, TicketEvent, TicketTag

DAYS = 30
EVENT_SCAN = 5000
SHOW = 50


@dataclass
class Match:
    ticket_id: int
    subject: str
    at: datetime.datetime


@dataclass
class DryRun:
    matched: int = 0  # distinct tickets
    changes_scanned: int = 0
    complete: bool = True  # False when the scan stopped at EVENT_SCAN events
    since: datetime.datetime | None = None
    tickets: list[Match] = field(default_factory=list)


def _needs(conditions: list[dict[str, Any]], name: str) -> bool:
    for item in conditions:
        group = item.get("any", [item])
        if any(c["field"] == name for c in group):
            return True
    return False


def trigger_dry_run(conditions: list[dict[str, Any]], *, now: datetime.datetime | None = None) -> DryRun:
    now = now or timezone.now()
    since = now - datetime.timedelta(days=DAYS)
    matches = compile_conditions(conditions)
    events: list[dict[str, Any]] = [
        dict(row)
        for row in TicketEvent.objects.filter(created_at__gte=since)
        .order_by("-created_at", "-id")
        .values("ticket_id", "field", "old", "new", "via", "created_at", "message_id")[: EVENT_SCAN + 1]
    ]
    result = DryRun(since=since, complete=len(events) <= EVENT_SCAN)
    events = events[:EVENT_SCAN]
    changes: dict[tuple[int, datetime.datetime, str], list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        changes[(event["ticket_id"], event["created_at"], event["via"])].append(event)
    ticket_ids = {key[0] for key in changes}
    tickets = {
        row["pk"]: row
        for row in Ticket.objects.filter(pk__in=ticket_ids).values(
            "pk", "subject", "status", "priority", "type", "channel", "team_id", "assignee_id",
            "requester_id", "organization_id", "custom_fields",
        )
    }  # fmt: skip
    tags: dict[int, list[str]] = defaultdict(list)
    if _needs(conditions, "tags"):
        for ticket_id, name in TicketTag.objects.filter(ticket_id__in=ticket_ids).values_list("ticket_id", "tag__name"):
            tags[ticket_id].append(name)
    texts: dict[int, str] = {}
    if _needs(conditions, "message"):
        ids = [e["message_id"] for e in events if e["field"] == "message" and e["message_id"]]
        texts = dict(Message.objects.filter(pk__in=ids).values_list("pk", "body_text"))
    schedules: dict[tuple[Any, Any], Any] = {}

    def open_at(team: Any, organization: Any, at: datetime.datetime) -> bool:
        from deskpilot.policies.business_time import is_open
        from deskpilot.policies.calendars import schedule_for

        if (team, organization) not in schedules:
            calendar = calendar_for(team, organization)
            schedules[(team, organization)] = schedule_for(calendar) if calendar is not None else None
        schedule = schedules[(team, organization)]
        return True if schedule is None else is_open(schedule, at)

    seen: dict[int, Match] = {}
    for (ticket_id, at, via), group in changes.items():  # newest first
        row = tickets.get(ticket_id)
        if row is None:
            continue
        fields: dict[str, Any] = {
            "status": row["status"], "priority": row["priority"], "type": row["type"], "channel": row["channel"],
            "team": row["team_id"], "assignee": row["assignee_id"], "requester": row["requester_id"],
            "organization": row["organization_id"], "subject": row["subject"],
            "custom_fields": row["custom_fields"] or {},
        }  # fmt: skip
        diff: dict[str, tuple[Any, Any]] = {}
        message = None
        kind = "updated"
        for event in group:
            if event["field"] == "created":
                kind = "created"
                initial = event["new"] if isinstance(event["new"], dict) else {}
                fields.update({k: v for k, v in initial.items() if k in fields})
            elif event["field"] == "message":
                new = event["new"] if isinstance(event["new"], dict) else {}
                message = {
                    "text": texts.get(event["message_id"], ""),
                    "public": bool(new.get("public")),
                    "author": author_of(new.get("author_role")),
                }
            elif event["field"] not in OCCURRENCES:
                diff[event["field"]] = (event["old"], event["new"])
                if event["field"] in fields:
                    fields[event["field"]] = event["new"]
        team, organization = fields["team"], fields["organization"]

        def in_hours(team: Any = team, organization: Any = organization, at: datetime.datetime = at) -> bool:
            return open_at(team, organization, at)

        current_tags = list(diff["tags"][1] or ()) if "tags" in diff else tags.get(ticket_id, [])
        snapshot = Snapshot(
            fields=fields,
            changes=diff,
            event=kind,
            via=via,
            message=message,
            tags=current_tags,
            in_business_hours=in_hours,
        )
        result.changes_scanned += 1
        if ticket_id not in seen and matches(snapshot):
            seen[ticket_id] = Match(ticket_id=ticket_id, subject=row["subject"], at=at)
    result.matched = len(seen)
    result.tickets = list(seen.values())[:SHOW]
    return result


def automation_dry_run(automation: Automation, *, now: datetime.datetime | None = None) -> DryRun:
    """The tickets the automation would act on if it ran now (acted-on periods left out)."""
    now = now or timezone.now()
    result = DryRun(since=None)
    for ticket, start in due(automation, now, limit=EVENT_SCAN):
        result.matched += 1
        if len(result.tickets) < SHOW:
            result.tickets.append(Match(ticket_id=ticket.pk, subject=ticket.subject, at=start))
    result.complete = result.matched < EVENT_SCAN
    return result
