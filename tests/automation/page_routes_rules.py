"""The rule pages in the page permission matrix: managers' pages for triggers, automations and
macros, and the macro picker and form on the ticket page (agents)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from deskpilot.automation.models import Automation, AutomationRun, Macro, Trigger
from tests.page_matrix import AGENT_FORM, Route, World, manager_page

MODELS: dict[str, Any] = {"trigger": Trigger, "automation": Automation, "macro": Macro}


def _rule(kind: str) -> int:
    """A rule of the kind (made on first use in a test), for the pages that show one."""
    model = MODELS[kind]
    existing = model.objects.order_by("id").first()
    if existing is not None:
        return existing.pk
    fields: dict[str, object] = {"name": f"Matrix {kind}", "actions": [{"type": "add_tags", "tags": ["matrix"]}]}
    if kind == "trigger":
        fields["conditions"] = [{"field": "priority", "op": "is", "value": "urgent"}]
    if kind == "automation":
        fields.update(status="pending", hours=72)
    if kind == "macro":
        fields["reply"] = "Hello {{ ticket.requester.first_name }}"
    return model.objects.create(**fields).pk


def _state() -> object:
    """What a refused rule form must leave alone: every rule row as it was."""
    rows: list[object] = []
    for model in MODELS.values():
        rows.append(sorted(model.objects.values_list("pk", "name", "position", "active", "updated_at", "actions")))
    rows.append(AutomationRun.objects.count())
    return rows


def _url(name: str, kind: str, *, with_rule: bool = True) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(f"rules:{kind}_{name}", args=[_rule(kind)] if with_rule else [])

    return url


PAGES: dict[str, Route] = {}
FORMS: dict[str, Route] = {}
for _kind in MODELS:
    PAGES[f"rules:{_kind}_list"] = Route(_url("list", _kind, with_rule=False), manager_page())
    PAGES[f"rules:{_kind}_new"] = Route(_url("new", _kind, with_rule=False), manager_page())
    PAGES[f"rules:{_kind}_edit"] = Route(_url("edit", _kind), manager_page())
    FORMS[f"rules:{_kind}_new"] = Route(_url("new", _kind, with_rule=False), manager_page(), state=_state)
    for _name in ("edit", "delete", "move"):
        FORMS[f"rules:{_kind}_{_name}"] = Route(_url(_name, _kind), manager_page(), state=_state)
    if _kind != "macro":
        PAGES[f"rules:{_kind}_dry_run"] = Route(_url("dry_run", _kind), manager_page())


def _ticket_macro(world: World) -> str:
    _rule("macro")
    return reverse("rules:macro_apply", args=[world.ticket.pk])


PAGES["rules:macro_apply"] = Route(_ticket_macro, AGENT_FORM)
FORMS["rules:macro_apply"] = Route(_ticket_macro, AGENT_FORM, state=_state)
