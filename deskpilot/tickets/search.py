"""Keeping the full-text index of tickets in step with their subject and messages."""

from __future__ import annotations

from collections.abc import Iterable

from deskpilot.core import search
from deskpilot.tickets.models import Message, Ticket


def document_for(ticket: Ticket) -> search.SearchDocument:
    public: list[str] = []
    internal: list[str] = []
    for body, is_public in Message.objects.filter(ticket=ticket).values_list("body_text", "public"):
        (public if is_public else internal).append(body)
    return search.SearchDocument(
        doc_id=ticket.pk, subject=ticket.subject, public_text="\n".join(public), internal_text="\n".join(internal)
    )


def reindex(tickets: Iterable[Ticket]) -> None:
    search.backend().replace([document_for(t) for t in tickets])


def index_message(message: Message) -> None:
    search.backend().append(message.ticket_id, message.body_text, public=message.public)
