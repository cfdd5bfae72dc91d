"""Managers' pages for triggers, time-based automations and macros (list, create, edit, delete,
reorder, dry run), and the macro picker agents use on the ticket page.

One set of views serves the three kinds (``KINDS``); the URLs pass the kind. Applying a macro
posts its reply at once (public or as an internal note, as the macro says) and applies its field
changes through ``tickets.actions``, then returns to the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import manager_required, page_user, staff_required
from deskpilot.automation import rule_forms
from deskpilot.automation.models import Automation, Macro, Trigger
from deskpilot.automation.rules import dry_run, schema, store
from deskpilot.automation.rules.macros import apply_macro
from deskpilot.core.errors import InvalidInput
from deskpilot.tickets import permissions
from deskpilot.tickets.models import Status


@dataclass(frozen=True)
class Kind:
    key: str
    model: type[Trigger] | type[Automation] | type[Macro]
    form: type[rule_forms.RuleForm]
    singular: str
    plural: str
    intro: str
    dry_run: bool = True


KINDS = {
    "trigger": Kind(
        "trigger",
        Trigger,
        rule_forms.TriggerForm,
        "trigger",
        "Triggers",
        "Run on every ticket create and update, in order; each fires at most once per change.",
    ),
    "automation": Kind(
        "automation",
        Automation,
        rule_forms.AutomationForm,
        "automation",
        "Automations",
        "Run every five minutes on tickets whose clock has run long enough; once per ticket and period.",
    ),
    "macro": Kind(
        "macro",
        Macro,
        rule_forms.MacroForm,
        "macro",
        "Macros",
        "Applied by agents from the ticket page: field changes and a reply with placeholders.",
        dry_run=False,
    ),
}


def _kind(kind: str) -> Kind:
    return KINDS[kind]


def _rule(kind: Kind, pk: int) -> Any:
    rule = kind.model.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404(f"no {kind.singular} {pk}")
    return rule


def _reference(kind: Kind) -> dict[str, Any]:
    """The vocabulary shown beside the form."""
    fields = [{"name": name, "ops": spec.ops, "values": spec.choices} for name, spec in schema.CONDITION_FIELDS.items()]
    fields.append({"name": "custom_fields.<key>", "ops": schema.CUSTOM_OPS, "values": ()})
    allowed = schema.MACRO_ACTION_TYPES if kind.key == "macro" else schema.ACTION_TYPES
    action_types = [{"type": t, "keys": sorted(schema.ACTION_KEYS[t])} for t in allowed]
    from deskpilot.accounts.models import AGENT_ROLES, Team, User
    from deskpilot.automation.models import WebhookSubscription
    from deskpilot.policies.models import BusinessCalendar, SlaPolicy

    # The ids a rule refers to, beside their names (bounded: a reference, not a directory).
    ids = {
        "Teams": Team.objects.order_by("name").values_list("pk", "name")[:100],
        "Agents": User.objects.filter(role__in=AGENT_ROLES, is_active=True)
        .order_by("name")
        .values_list("pk", "name")[:200],
    }
    if kind.key != "macro":
        ids["Webhooks"] = WebhookSubscription.objects.order_by("name").values_list("pk", "name")[:100]
        ids["SLA policies"] = SlaPolicy.objects.order_by("position", "name").values_list("pk", "name")[:100]
        ids["Calendars"] = BusinessCalendar.objects.order_by("name").values_list("pk", "name")[:100]
    return {"condition_fields": fields, "action_types": action_types, "ids": {k: list(v) for k, v in ids.items()}}


@manager_required
def rule_list(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _kind(kind)
    rows = list(spec.model.objects.order_by("position", "id"))
    return render(
        request, "rules/list.html", {"kind": spec, "rows": rows, "kinds": KINDS.values(), "title": spec.plural}
    )


@manager_required
def rule_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    spec = _kind(kind)
    rule = _rule(spec, pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = spec.form(request.POST, instance=rule)
        if form.is_valid():
            store.save_rule(form.instance, created_by=page_user(request))
            messages.success(request, f"{spec.singular.capitalize()} “{form.instance.name}” saved.")
            return redirect(reverse(f"rules:{kind}_list"))
        status = 422
    else:
        form = spec.form(instance=rule)
    context = {"kind": spec, "form": form, "rule": rule, "title": rule.name if rule else f"New {spec.singular}"}
    context.update(_reference(spec))
    return render(request, "rules/edit.html", context, status=status)


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def rule_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    spec = _kind(kind)
    rule = _rule(spec, pk)
    store.delete_rule(rule)
    messages.success(request, f"{spec.singular.capitalize()} “{rule.name}” deleted.")
    return redirect(reverse(f"rules:{kind}_list"))


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def rule_move(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    spec = _kind(kind)
    rule = _rule(spec, pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        messages.error(request, "direction: choose up or down")
    else:
        store.move_rule(rule, -1 if direction == "up" else 1)
    return redirect(reverse(f"rules:{kind}_list") + f"#rule-{rule.pk}")


@manager_required
def rule_dry_run(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    spec = _kind(kind)
    rule = _rule(spec, pk)
    if isinstance(rule, Automation):
        result = dry_run.automation_dry_run(rule)
    else:
        result = dry_run.trigger_dry_run(rule.conditions)
    context = {
        "kind": spec,
        "rule": rule,
        "result": result,
        "title": f"Dry run: {rule.name}",
        "days": dry_run.DAYS,
        "scan": dry_run.EVENT_SCAN,
    }
    return render(request, "rules/dry_run.html", context)


# --- macros on the ticket page ---------------------------------------------------------------------


@staff_required
def macro_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the macro picker (loaded into the ticket page on demand). POST: apply a macro."""
    user = page_user(request)
    ticket = permissions.get_visible_ticket(user, pk)
    permissions.require_can_update(user, ticket)
    if request.method != "POST":
        macros = list(Macro.objects.filter(active=True).order_by("position", "id").only("pk", "name", "description"))
        template = "rules/_macro_list.html" if request.htmx else "rules/macro_page.html"  # type: ignore[attr-defined]
        return render(request, template, {"ticket": ticket, "macros": macros})
    back = reverse("tickets:ticket", args=[ticket.pk])
    raw = request.POST.get("macro", "")
    macro = Macro.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
    if macro is None:
        messages.error(request, "macro: choose a macro to apply")
        return redirect(back)
    if ticket.status == Status.CLOSED:
        messages.error(request, "ticket: closed tickets cannot be changed")
        return redirect(back)
    try:
        message = apply_macro(macro, ticket, actor=user)
    except InvalidInput as error:
        messages.error(request, f"Macro “{macro.name}” was not applied: {error}")
        return redirect(back)
    messages.success(request, f"Macro “{macro.name}” applied.")
    return redirect(back + (f"#message-{message.pk}" if message is not None else ""))
