"""What the ticket page shows about a message's email: for mail received, the original message one
click away; for replies sent, their delivery state. Two queries for the whole conversation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from deskpilot.mail.models import InboundMail, OutboundMail
from deskpilot.tickets.models import Message


def attach_mail_info(messages: Sequence[Message]) -> None:
    """Sets ``mail_inbound`` (the InboundMail a message came from, or None) and
    ``mail_deliveries`` (the OutboundMail rows that carried it, oldest first) on each message."""
    ids = [m.pk for m in messages]
    inbound = {row.message_id: row for row in InboundMail.objects.filter(message_id__in=ids)} if ids else {}
    deliveries: dict[int, list[OutboundMail]] = defaultdict(list)
    if ids:
        for row in OutboundMail.objects.filter(message_id__in=ids).order_by("queued_at", "id"):
            deliveries[row.message_id].append(row)  # type: ignore[index]
    for message in messages:
        message.mail_inbound = inbound.get(message.pk)  # type: ignore[attr-defined]
        message.mail_deliveries = deliveries.get(message.pk, [])  # type: ignore[attr-defined]
