"""The macro picker on the ticket page: ``{% load automation_tags %}{% macro_picker ticket %}``.

It costs the ticket page no query: the list of macros is fetched (htmx) when an agent opens it."""

from __future__ import annotations

from typing import Any

from django import template

from deskpilot.accounts.models import AGENT_ROLES
from deskpilot.tickets.models import Status

register = template.Library()


@register.inclusion_tag("rules/_macro_picker.html", takes_context=True)
def macro_picker(context: template.Context, ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    show = bool(
        user is not None
        and user.is_authenticated
        and user.role in AGENT_ROLES
        and ticket is not None
        and ticket.status != Status.CLOSED
    )
    return {"show": show, "ticket": ticket}
