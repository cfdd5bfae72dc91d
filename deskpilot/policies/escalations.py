"""What a ticket's escalation policy does when one of its SLA targets warns or breaches.

The SLA clocks record a warning or a breach as an ``sla`` event (``policies.sla``); this receiver
of ``events_recorded`` hears it inside the same transaction and applies the escalation policy of
the ticket's SLA policy: notify (in-app and email, and webhooks hear the ``sla`` event anyway),
raise the priority one step, move to a team, climb the escalation ladder, add the team lead as a
follower, add a tag. Every change it makes goes through the ticket actions with the cause
``escalation:<id>``, so the history says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from deskpilot.accounts.models import User
from deskpilot.policies.models import EscalationPolicy, SlaMetric
from deskpilot.tickets import actions
from deskpilot.tickets.models import Priority, Status, Ticket, TicketEvent, Via

logger = logging.getLogger(__name__)

_PRIORITY_UP = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT}
_KIND_WORDS = {"warning": "at risk", "breach": "breached"}


def _applies(policy: EscalationPolicy, kind: str, metric: str) -> bool:
    if kind == "warning" and not policy.on_warning:
        return False
    if kind == "breach" and not policy.on_breach:
        return False
    return not policy.metrics or metric in policy.metrics


def on_events_recorded(sender: Any, *, ticket: Ticket, events: Sequence[TicketEvent], **kwargs: Any) -> None:
    findings = [e for e in events if e.field == "sla" and isinstance(e.new, dict)]
    if not findings or ticket.sla_policy_id is None or ticket.status in (Status.SOLVED, Status.CLOSED):
        return
    policy = EscalationPolicy.objects.filter(sla_policies__id=ticket.sla_policy_id).first()
    if policy is None:
        return
    for event in findings:
        new = event.new
        assert isinstance(new, dict)
        if _applies(policy, new.get("kind", ""), new.get("metric", "")):
            escalate(ticket, policy, kind=new["kind"], metric=new["metric"])


def escalate(ticket: Ticket, policy: EscalationPolicy, *, kind: str, metric: str) -> None:
    """Apply ``policy`` to ``ticket`` (locked, inside the change's transaction) for one finding."""
    from deskpilot.mail.notifications import notify_staff

    label = SlaMetric(metric).label if metric in SlaMetric.values else metric
    headline = f"SLA {_KIND_WORDS.get(kind, kind)}: {label} on #{ticket.pk} “{ticket.subject}”"
    cause = f"escalation:{policy.pk}"
    with actions.caused_by(cause):
        changes: dict[str, Any] = {}
        if policy.raise_priority and ticket.priority in _PRIORITY_UP:
            changes["priority"] = _PRIORITY_UP[ticket.priority]  # type: ignore[index]
        if policy.move_to_team_id and policy.move_to_team_id != ticket.team_id:
            changes["team"] = policy.move_to_team
        if policy.add_tag:
            changes["add_tags"] = [policy.add_tag]
        lead = _team_lead(ticket, changes.get("team"))
        if policy.add_lead_as_follower and lead is not None:
            followers = list(ticket.followers.all())
            if lead not in followers:
                changes["followers"] = [*followers, lead]
        if changes:
            actions.update_ticket(ticket, actor=None, via=Via.RULE, changes=changes)
        if policy.escalate_to and _higher(policy.escalate_to, ticket.escalation):
            actions.set_escalation(ticket, actor=None, via=Via.RULE, level=policy.escalate_to, reason=policy.name)
        users: list[User] = []
        if policy.notify_assignee and ticket.assignee_id:
            assignee = User.objects.filter(pk=ticket.assignee_id).first()
            if assignee is not None:
                users.append(assignee)
        if policy.notify_team_lead and lead is not None:
            users.append(lead)
        if users or policy.notify_emails:
            text = f"{headline}.\nEscalation policy: {policy.name}."
            notify_staff(ticket, users=users, emails=policy.notify_emails, subject=headline, text=text, cause=cause)


def _team_lead(ticket: Ticket, new_team: Any) -> User | None:
    from deskpilot.accounts.models import Team

    team_id = new_team.pk if new_team is not None else ticket.team_id
    if team_id is None:
        return None
    team = Team.objects.select_related("lead").filter(pk=team_id).first()
    return team.lead if team is not None and team.lead is not None and team.lead.is_active else None


def _higher(level: str, current: str | None) -> bool:
    ladder = actions.ESCALATION_LADDER
    return ladder.index(level) > ladder.index(current or None)
