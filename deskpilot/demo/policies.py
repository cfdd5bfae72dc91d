"""The demo desk's service policies: the business hours its agents work (the simulation's, UTC
weekdays 08:00-18:00), two SLA policies with warnings, and an escalation policy on breach. Made
through the managers' own actions (``policies.sla_actions``), so they are valid by the same rules.

They are dated to before the generated history, as if the desk had always worked under them, so
that recomputing the clocks records the history's warnings and breaches at their moments (a
policy never judges time before it existed in its current form)."""

from __future__ import annotations

import datetime

from django.db import transaction

from deskpilot.demo.simulate import CLOSE_HOUR, OPEN_HOUR
from deskpilot.policies import sla, sla_actions
from deskpilot.policies.models import BusinessCalendar, EscalationPolicy, SlaPolicy


def _cell(minutes: int, business: bool = True) -> dict[str, object]:
    return {"minutes": minutes, "business_hours": business}


# Urgent tickets are answered around the clock in the simulation: their targets run in calendar time.
URGENT_AND_HIGH = {
    "urgent": {
        "first_reply": _cell(60, business=False),
        "next_reply": _cell(120, business=False),
        "periodic_update": _cell(240, business=False),
        "total_resolution": _cell(24 * 60, business=False),
    },
    "high": {
        "first_reply": _cell(2 * 60),
        "next_reply": _cell(4 * 60),
        "requester_wait": _cell(16 * 60),
        "total_resolution": _cell(40 * 60),
    },
}
STANDARD = {
    "normal": {
        "first_reply": _cell(8 * 60),
        "next_reply": _cell(10 * 60),
        "requester_wait": _cell(30 * 60),
        "total_resolution": _cell(80 * 60),
    },
    "low": {
        "first_reply": _cell(16 * 60),
        "next_reply": _cell(20 * 60),
        "total_resolution": _cell(120 * 60),
    },
}


def ensure_service_policies(*, since: datetime.datetime) -> bool:
    """Create the demo's calendar and policies unless the desk has any of its own; False when it
    already had some (they are left alone)."""
    if SlaPolicy.objects.exists() or BusinessCalendar.objects.exists() or EscalationPolicy.objects.exists():
        return False
    with transaction.atomic():
        hours = sla_actions.create_calendar(
            name="Support hours",
            time_zone="UTC",
            intervals=[
                {"weekday": day, "start": f"{OPEN_HOUR:02d}:00", "end": f"{CLOSE_HOUR:02d}:00"} for day in range(5)
            ],
        )
        sla_actions.assign_calendars(default=hours.pk)
        breach = sla_actions.create_escalation_policy(
            name="Breach: tell the assignee and the lead",
            on_breach=True,
            notify_assignee=True,
            notify_team_lead=True,
            add_tag="sla-breached",
        )
        sla_actions.create_sla_policy(
            name="Urgent and high",
            description="Fast answers for what cannot wait; urgent tickets count around the clock.",
            priorities=["urgent", "high"],
            warning_percent=75,
            escalation=breach.pk,
            targets=URGENT_AND_HIGH,
        )
        sla_actions.create_sla_policy(
            name="Standard",
            description="Everything else, in business hours.",
            priorities=["normal", "low"],
            warning_percent=75,
            escalation=breach.pk,
            targets=STANDARD,
        )
        SlaPolicy.objects.update(updated_at=since)
    sla.clear_cache()
    return True
