"""Keeping the full-text index of tickets in step with their subject and messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from deskpilot.core import search
from deskpilot.tickets.models import Message, Ticket


def document_for(ticket: Ticket, messages: Sequence[Message] | None = None) -> search.SearchDocument:
    """The ticket's document; from ``messages`` (all of the ticket's, in order) when the caller
    has them, else from the database."""
    public: list[str] = []
    internal: list[str] = []
    rows = (
        [(m.body_text, m.public) for m in messages]
        if messages is not None
        else Message.objects.filter(ticket=ticket).values_list("body_text", "public")
    )
    for body, is_public in rows:
        (public if is_public else internal).append(body)
    return search.SearchDocument(
        doc_id=ticket.pk, subject=ticket.subject, public_text="\n".join(public), internal_text="\n".join(internal)
    )


def reindex(tickets: Iterable[Ticket], *, messages: Mapping[int, Sequence[Message]] | None = None) -> None:
    """Write the tickets' documents again. ``messages`` maps ticket ids to all their messages,
    for tickets whose messages the caller holds (a ticket just created)."""
    search.backend().replace([document_for(t, (messages or {}).get(t.pk)) for t in tickets])


def index_message(message: Message) -> None:
    search.backend().append(message.ticket_id, message.body_text, public=message.public)
