"""Bulk changes from the inbox: one change applied to the selected tickets, all or nothing.

Each ticket changes through ``actions.update_ticket`` / ``actions.merge_tickets`` (so every change
is the same TicketEvent a single edit records), inside one transaction: an invalid value, a
ticket someone changed meanwhile (its version) or one the actor may not see rolls everything back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from deskpilot.accounts.models import AGENT_ROLES, User
from deskpilot.core.errors import InvalidInput, StaleVersion
from deskpilot.tickets import actions, permissions
from deskpilot.tickets.models import Priority, Status, Ticket, Via

# More than a page (50) is never selected on the inbox; the cap bounds one transaction's work.
MAX_TICKETS = 100
ACTIONS = ("assign", "status", "priority", "add_tag", "remove_tag", "merge")
# The form field that carries each action's value.
VALUE_FIELDS = {
    "assign": "assignee",
    "status": "status",
    "priority": "priority",
    "add_tag": "tag",
    "remove_tag": "tag",
    "merge": "merge_target",
}


@dataclass(frozen=True)
class Selected:
    """A ticket as the agent saw it: its number and the version shown on the page."""

    ticket_id: int
    version: int


def parse_selection(values: Sequence[str]) -> list[Selected]:
    """Checkbox values "<number>:<version>"."""
    selected: dict[int, Selected] = {}
    for raw in values:
        number, _, version = str(raw).partition(":")
        try:
            item = Selected(int(number), int(version))
        except ValueError:
            raise InvalidInput("tickets", f"{raw!r} is not a ticket from the list") from None
        selected[item.ticket_id] = item
    if not selected:
        raise InvalidInput("tickets", "select at least one ticket")
    if len(selected) > MAX_TICKETS:
        raise InvalidInput("tickets", f"select at most {MAX_TICKETS} tickets at a time")
    return list(selected.values())


def _changes(action: str, value: str) -> dict[str, Any]:
    value = (value or "").strip()
    if action == "assign":
        if value in ("", "none"):
            return {"assignee": None}
        try:
            pk = int(value)
        except ValueError:
            raise InvalidInput("assignee", "choose an agent") from None
        agent = User.objects.filter(pk=pk, is_active=True, role__in=AGENT_ROLES).first()
        if agent is None:
            raise InvalidInput("assignee", "is not an active agent")
        return {"assignee": agent}
    if action in ("status", "priority"):
        allowed = Status if action == "status" else Priority
        if value not in allowed.values:
            raise InvalidInput(action, f"choose one of: {', '.join(allowed.values)}")
        return {action: value}
    if action in ("add_tag", "remove_tag"):
        try:
            tag = actions.clean_tag(value)
        except InvalidInput:
            raise InvalidInput("tag", "enter a tag") from None
        return {"add_tags" if action == "add_tag" else "remove_tags": [tag]}
    raise InvalidInput("action", f"choose one of: {', '.join(ACTIONS)}")


def apply(user: User, selection: Sequence[Selected], *, action: str, value: str) -> int:
    """Apply ``action`` with ``value`` to the selected tickets; the number of tickets changed.
    Raises InvalidInput, StaleVersion or NotPermitted, having changed nothing."""
    permissions.require_agent(user)
    if not selection:
        raise InvalidInput("tickets", "select at least one ticket")
    if action == "merge":
        return _merge(user, selection, value)
    changes = _changes(action, value)
    changed = 0
    with transaction.atomic():
        tickets = _locked(user, selection)
        for item in selection:
            ticket = tickets[item.ticket_id]
            try:
                events = actions.update_ticket(
                    ticket, actor=user, via=Via.WEB, changes=changes, expected_version=item.version
                )
            except InvalidInput as error:
                raise _about(ticket, error) from None
            changed += bool(events)
    return changed


def _merge(user: User, selection: Sequence[Selected], value: str) -> int:
    try:
        target_id = int(str(value).strip().lstrip("#"))
    except ValueError:
        raise InvalidInput("merge_target", "enter the number of the ticket to merge into") from None
    if target_id not in {s.ticket_id for s in selection}:
        raise InvalidInput("merge_target", f"ticket #{target_id} is not among the selected tickets")
    if len(selection) < 2:
        raise InvalidInput("tickets", "select at least two tickets to merge")
    with transaction.atomic():
        tickets = _locked(user, selection)
        for item in selection:
            if tickets[item.ticket_id].version != item.version:
                raise StaleVersion(f"ticket {item.ticket_id} has changed since you loaded the page; reload and retry")
        target = tickets[target_id]
        for item in selection:
            if item.ticket_id != target_id:
                try:
                    actions.merge_tickets(tickets[item.ticket_id], target, actor=user, via=Via.WEB)
                except InvalidInput as error:
                    raise _about(tickets[item.ticket_id], error) from None
    return len(selection)


def _locked(user: User, selection: Sequence[Selected]) -> dict[int, Ticket]:
    """The selected tickets the user may see, locked (PostgreSQL; SQLite's IMMEDIATE
    transaction already serialises writers). A missing one is an error, not skipped."""
    ids = [s.ticket_id for s in selection]
    found = {t.pk: t for t in permissions.visible_tickets(user).filter(pk__in=ids).order_by("pk").select_for_update()}
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidInput("tickets", f"ticket #{missing[0]} was not found")
    return found


def _about(ticket: Ticket, error: InvalidInput) -> InvalidInput:
    """The action's error, naming the ticket it is about."""
    return InvalidInput({field: f"ticket #{ticket.pk}: {problem}" for field, problem in error.errors.items()})
