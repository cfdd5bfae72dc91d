"""Rule text with placeholders, rendered in a sandbox, and applying a macro to a ticket.

Templates (a macro's reply, a notification's or requester email's subject and text) use Jinja2
syntax (``{{ ticket.requester.first_name }}``) and are rendered by Jinja2's
``ImmutableSandboxedEnvironment`` over a whitelisted context of plain dicts, strings and numbers: never a
model instance, so a template cannot walk from the ticket to a password hash or a mailbox's
credentials, and the sandbox refuses attribute tricks such as ``''.__class__``. Output is
capped, as are ``range`` and string repetition, so a template cannot exhaust memory.
"""

from __future__ import annotations

import functools
import operator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from deskpilot.accounts.models import User
from deskpilot.automation.rules import schema
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets import actions
from deskpilot.tickets.models import Message, Ticket, Via

OUTPUT_MAX = 20_000
REPEAT_MAX = 10_000


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (no underscore attributes, no unsafe callables, no mutating the context's
    lists and dicts, bounded ``range``), plus: an unsafe attribute is an error rather than an
    empty value (the manager learns why), and ``"x" * 10**9`` or ``10 ** 10**9``, which would
    allocate without end, are refused."""

    intercepted_binops = frozenset({"*", "**"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            raise SecurityError("the power operator is not allowed in templates")
        if operator_name == "*":
            for one, other in ((left, right), (right, left)):
                if isinstance(one, str | list | tuple) and isinstance(other, int) and len(one) * other > REPEAT_MAX:
                    raise SecurityError("repetition too large")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


_env = _Sandbox(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True, cache_size=0)


@functools.lru_cache(maxsize=512)
def compile_template(source: str) -> Any:
    """The compiled template (cached by its text); raises jinja2.TemplateSyntaxError."""
    return _env.from_string(source)


def render(source: str, context: dict[str, Any], *, path: str = "text") -> str:
    """``source`` rendered over ``context``; a template that fails (a sandbox refusal, a type
    error) raises RuleError naming ``path`` and the problem, never a stack trace."""
    try:
        text = compile_template(source).render(context)
    except SecurityError as error:
        raise schema.RuleError(path, f"not allowed in a template: {error}") from None
    except TemplateError as error:
        raise schema.RuleError(path, f"the template failed: {error}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise schema.RuleError(path, f"the template failed: {error}") from None
    if len(text) > OUTPUT_MAX:
        raise schema.RuleError(path, f"renders to more than {OUTPUT_MAX} characters")
    return text


def _first_name(name: str) -> str:
    return name.split()[0] if name.split() else ""


def _person(name: str, email: str) -> dict[str, str]:
    return {"name": name, "first_name": _first_name(name), "email": email}


def template_context(ticket: Ticket, *, user: User | None = None) -> dict[str, Any]:
    """What a rule's template may use: plain values only (a few queries; used when a rule acts,
    never while conditions are evaluated)."""
    ticket = Ticket.objects.select_related("requester", "organization", "team", "assignee").get(pk=ticket.pk)
    requester = ticket.requester
    base = settings.BASE_URL.rstrip("/")
    assignee = ticket.assignee
    return {
        "ticket": {
            "id": ticket.pk,
            "number": ticket.pk,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "type": ticket.type,
            "channel": ticket.channel,
            "created_at": ticket.created_at.isoformat(),
            "tags": sorted(ticket.tags.values_list("name", flat=True)),
            "url": base + reverse("tickets:ticket", args=[ticket.pk]),
            "portal_url": base + reverse("portal:ticket", args=[ticket.pk]),
            "requester": _person(requester.name, requester.primary_email),
            "organization": {"name": ticket.organization.name} if ticket.organization else None,
            "team": {"name": ticket.team.name} if ticket.team else None,
            "assignee": _person(assignee.name, assignee.email) if assignee else None,
        },
        "current_user": _person(user.name, user.email) if user is not None else None,
    }


# --- macros --------------------------------------------------------------------------------------


def macro_changes(macro_actions: list[dict[str, Any]]) -> dict[str, Any]:
    from deskpilot.automation.rules.actions import field_changes

    return field_changes(macro_actions)


def apply_macro(macro: Any, ticket: Ticket, *, actor: User) -> Message | None:
    """Apply ``macro`` as ``actor``: its field changes and its reply (public or an internal
    note), in one transaction; every event records ``macro:<id>``. Everything is checked first:
    a macro whose team or agent is gone, or whose reply does not render, changes nothing.
    Returns the message posted (None when the macro has no reply)."""
    if not macro.active:
        raise InvalidInput("macro", "this macro is turned off")
    cleaned = schema.clean_actions(macro.actions, allowed=schema.MACRO_ACTION_TYPES, allow_empty=True)
    changes = macro_changes(cleaned)
    body = ""
    if macro.reply.strip():
        body = render(macro.reply, template_context(ticket, user=actor), path="reply").strip()
    # A status goes with the reply ("reply and set pending"), so the reply comes first in the
    # history as it would when an agent does both by hand.
    status = changes.pop("status", None) if body else None
    with transaction.atomic(), actions.caused_by(f"macro:{macro.pk}"):
        message = None
        if body:
            message = actions.add_message(
                ticket, actor=actor, via=Via.WEB, body_text=body, public=macro.reply_public, status=status
            )
        if changes:
            actions.update_ticket(ticket, actor=actor, via=Via.WEB, changes=changes)
        return message
