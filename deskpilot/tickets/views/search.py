"""The search page: tickets and their messages through ``queries`` (TicketFilters(q=...)), newest
first, keyset-paginated, with a highlighted snippet of a matching message per row."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Greatest, Lower, StrIndex, Substr
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from deskpilot.accounts.access import page_user, staff_required
from deskpilot.accounts.models import User
from deskpilot.core import search as full_text
from deskpilot.core.api_support import Ordering
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets import permissions, queries
from deskpilot.tickets.models import Message, Ticket
from deskpilot.tickets.views.inbox import TABLE_TARGET, wants_area, with_query

PAGE_SIZE = 50
NEWEST_FIRST = Ordering(column="id", descending=True)
# Characters of message text shown around the first match.
SNIPPET_BEFORE = 60
SNIPPET_LENGTH = 200
Q_MAX = 500


def _words(q: str) -> list[str]:
    """The query's words and phrases that must match (not the excluded ones)."""
    return [term.text for term in full_text.parse_query(q) if not term.negated]


def highlight(text: str, words: list[str]) -> SafeString:
    """``text`` escaped, with the words wrapped in <mark>: the text is split on the words first
    and each piece escaped, so nothing in a message can become markup."""
    if not words:
        return SafeString(escape(text))
    pattern = re.compile("(" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")", re.I)
    pieces = pattern.split(text)
    out = [f"<mark>{escape(p)}</mark>" if i % 2 else str(escape(p)) for i, p in enumerate(pieces)]
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def attach_snippets(user: User, tickets: list[Ticket], q: str) -> None:
    """``ticket.snippet``: the text around the first match of the query's first word in the
    ticket's messages the viewer may read. One query for the whole page, reading only an
    excerpt of each matching message (not whole bodies); matches that need accent folding get
    no snippet and show the subject alone."""
    words = _words(q)
    if not tickets or not words:
        return
    first = words[0].lower()
    messages = Message.objects.filter(ticket_id__in=[t.pk for t in tickets])
    if not permissions.sees_internal(user):
        messages = messages.filter(public=True)
    rows = (
        messages.annotate(at=StrIndex(Lower("body_text"), Value(first)))
        .filter(Q(at__gt=0))
        .annotate(excerpt=Substr("body_text", Greatest(F("at") - SNIPPET_BEFORE, 1), SNIPPET_LENGTH))
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "at", "excerpt")
    )
    found: dict[int, tuple[int, str]] = {}
    for ticket_id, at, excerpt in rows:
        found.setdefault(ticket_id, (at, excerpt))
    for ticket in tickets:
        if ticket.pk in found:
            at, excerpt = found[ticket.pk]
            text = " ".join(excerpt.split())
            text = ("…" if at > SNIPPET_BEFORE + 1 else "") + text + ("…" if len(excerpt) >= SNIPPET_LENGTH else "")
            ticket.snippet = highlight(text, words)  # type: ignore[attr-defined]


@require_GET
@staff_required
def search(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    q = (request.GET.get("q") or "").strip()[:Q_MAX]
    rows: list[Ticket] = []
    next_cursor = None
    error: InvalidInput | None = None
    status = 200
    cursor = request.GET.get("cursor") or None
    if q:
        try:
            rows, next_cursor = queries.ticket_page(
                user, queries.TicketFilters(q=q), ordering=NEWEST_FIRST, cursor=cursor, limit=PAGE_SIZE
            )
        except InvalidInput as problem:
            error, status = problem, 422
        attach_snippets(user, rows, q)
    context: dict[str, Any] = {
        "q": q,
        "title": f"Search: {q}" if q else "Search",
        "rows": rows,
        "error": error,
        "selectable": False,
        "table_target": TABLE_TARGET,
        "next_url": with_query(request.GET, cursor=next_cursor) if next_cursor else None,
        "first_url": with_query(request.GET, cursor=None) if cursor else None,
        "empty_text": "No tickets match. Try fewer or different words.",
    }
    template = "tickets/search_area.html" if wants_area(request) else "tickets/search.html"
    return render(request, template, context, status=status)


urlpatterns = [path("search", search, name="search")]
