"""Shared makers for the survey tests."""

from __future__ import annotations

import datetime
from typing import Any

from deskpilot.accounts.models import Role
from deskpilot.feedback.models import Survey, SurveyKind
from deskpilot.feedback.surveys import DEFAULT_TEXTS
from deskpilot.tickets import actions as ticket_actions
from deskpilot.tickets.models import Status, Ticket, Via
from tests import factories


def survey(kind: str = SurveyKind.CSAT, **fields: Any) -> Survey:
    texts = dict(DEFAULT_TEXTS[kind].items())
    texts.update(fields)
    return Survey.objects.create(kind=kind, **texts)


def solved_ticket(email: str | None = None, **fields: Any) -> Ticket:
    """A ticket answered by an agent and solved (now)."""
    agent = factories.user(Role.AGENT)
    staff_fields = {name: fields.pop(name) for name in ("team", "assignee") if name in fields}
    ticket = factories.ticket(requester=factories.customer(email=email), **fields)
    if staff_fields:
        ticket_actions.update_ticket(ticket, actor=agent, via=Via.WEB, changes=staff_fields)
    ticket_actions.add_message(ticket, actor=agent, via=Via.WEB, body_text="Done", status=Status.SOLVED)
    ticket.refresh_from_db()
    return ticket


DAY = datetime.timedelta(days=1)
