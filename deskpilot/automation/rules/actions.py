"""What a trigger or automation does to a ticket, through the one way to change a ticket
(``tickets.actions``) and the existing mail and webhook code.

Field changes (set, assign, tags) become one ``update_ticket`` call as the system
(``Via.RULE``) inside ``caused_by(cause)``, so every event records the rule. Side effects follow:
``notify`` (in-app and email to staff, ``mail.notifications.notify_staff``), ``email_requester``
(a public system message in the conversation, emailed to the requester through
``mail.outbound``), ``webhook`` (a signed delivery of the ticket to one subscription, through
``automation.webhooks``), ``set_policy`` (``policies.sla.pin_policy``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from deskpilot.accounts.models import Team, User
from deskpilot.automation.rules.macros import render, template_context
from deskpilot.tickets import actions
from deskpilot.tickets.models import Ticket, Via

logger = logging.getLogger(__name__)

FIELD_ACTIONS = frozenset({"set", "assign", "add_tags", "remove_tags"})


def field_changes(rule_actions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ``update_ticket`` changes of a rule's field actions (later actions win)."""
    changes: dict[str, Any] = {}
    for action in rule_actions:
        kind = action["type"]
        if kind == "set":
            name = action["field"]
            if name.startswith("custom_fields."):
                changes.setdefault("custom_fields", {})[name.removeprefix("custom_fields.")] = action["value"]
            else:
                changes[name] = action["value"]
        elif kind == "assign":
            if "team" in action:
                changes["team"] = Team.objects.filter(pk=action["team"]).first() if action["team"] else None
            if "assignee" in action:
                changes["assignee"] = User.objects.filter(pk=action["assignee"]).first() if action["assignee"] else None
        elif kind in ("add_tags", "remove_tags"):
            other = "remove_tags" if kind == "add_tags" else "add_tags"
            tags = set(action["tags"])
            changes[kind] = sorted(set(changes.get(kind, ())) | tags)
            if other in changes:
                changes[other] = sorted(set(changes[other]) - tags)
    return changes


def apply(ticket: Ticket, rule_actions: Sequence[dict[str, Any]], *, cause: str) -> None:
    """Apply a rule's cleaned actions to ``ticket`` (the locked instance the caller holds, kept
    current). Raises what ``update_ticket`` raises (InvalidInput) before any side effect."""
    with actions.caused_by(cause):
        changes = field_changes(rule_actions)
        if changes:
            actions.update_ticket(ticket, actor=None, via=Via.RULE, changes=changes)
        context: dict[str, Any] | None = None
        for action in rule_actions:
            kind = action["type"]
            if kind in FIELD_ACTIONS:
                continue
            if kind in ("notify", "email_requester") and context is None:
                context = template_context(ticket)
            if kind == "notify":
                assert context is not None
                _notify(ticket, action, context, cause=cause)
            elif kind == "email_requester":
                assert context is not None
                _email_requester(ticket, action, context)
            elif kind == "webhook":
                _webhook(ticket, action["subscription"], cause=cause)
            elif kind == "set_policy":
                _set_policy(ticket, action, cause=cause)


def _notify(ticket: Ticket, action: dict[str, Any], context: dict[str, Any], *, cause: str) -> None:
    from deskpilot.mail.notifications import notify_staff

    ids = set(action.get("users") or ())
    if action.get("assignee") and ticket.assignee_id:
        ids.add(ticket.assignee_id)
    if action.get("team_lead") and ticket.team_id:
        lead = Team.objects.filter(pk=ticket.team_id).values_list("lead_id", flat=True).first()
        if lead:
            ids.add(lead)
    users = list(User.objects.filter(pk__in=ids)) if ids else []
    notify_staff(
        ticket,
        users=users,
        emails=action.get("emails") or (),
        subject=render(action["subject"], context, path="subject"),
        text=render(action["text"], context, path="text"),
        cause=cause,
    )


def _email_requester(ticket: Ticket, action: dict[str, Any], context: dict[str, Any]) -> None:
    """The email goes into the conversation as a public system message (so agents and the
    customer's portal show what was sent), and out through the one outbound mail path."""
    from deskpilot.mail import outbound
    from deskpilot.mail.models import OutboundKind
    from deskpilot.mail.notifications import AUTO_GENERATED

    subject = " ".join(render(action["subject"], context, path="subject").split()) or ticket.subject
    body = render(action["body"], context, path="body").strip()
    if not body:
        logger.info("rule email for ticket %s renders empty; not sent", ticket.pk)
        return
    message = actions.add_message(ticket, actor=None, via=Via.RULE, body_text=body, public=True)
    requester = ticket.requester
    outbound.create_outbound(
        ticket=ticket,
        kind=OutboundKind.REPLY,
        sender=outbound.sender_for(ticket),
        recipients=outbound.customer_recipients(ticket, [requester]),
        subject=outbound.tagged_subject(subject, ticket.pk),
        body_text=message.body_text + "\n",
        body_html=message.body_html,
        message=message,
        auto_submitted=AUTO_GENERATED,
    )


def _webhook(ticket: Ticket, subscription_id: int, *, cause: str) -> None:
    from deskpilot.automation import webhooks
    from deskpilot.automation.models import WebhookDelivery, WebhookSubscription

    subscription = WebhookSubscription.objects.filter(pk=subscription_id, active=True).first()
    if subscription is None:
        logger.info("rule %s: webhook %s is gone or off; nothing sent", cause, subscription_id)
        return
    event_id, event_type = f"evt_{uuid.uuid4().hex}", "rule.fired"
    event = {
        "id": event_id,
        "type": event_type,
        "created_at": timezone.now(),
        "data": {"ticket": webhooks._ticket_data(ticket), "rule": cause},
    }
    payload = json.loads(json.dumps(event, cls=DjangoJSONEncoder))
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        next_attempt_at=timezone.now(),
    )
    delivery_id = delivery.pk
    # Signed, sent, retried and logged like every other delivery (webhooks.deliver).
    transaction.on_commit(lambda: webhooks._enqueue([delivery_id]))


def _set_policy(ticket: Ticket, action: dict[str, Any], *, cause: str) -> None:
    from deskpilot.policies.sla import pin_policy

    pin_policy(ticket, policy_id=action.get("policy"), calendar_id=action.get("calendar"), cause=cause)
