"""Managers' pages for KPI targets: the list grouped by scope (whole desk, each team, each agent),
the form to set or change a target, and deleting one.

Thin: the form reads human units, ``analytics.targets`` validates and writes, and its
InvalidInput re-renders the form with 422 and the error next to the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskpilot.accounts.access import manager_required, page_user
from deskpilot.analytics import targets
from deskpilot.analytics.kpis import KPIS, Unit
from deskpilot.analytics.models import KpiTarget
from deskpilot.analytics.target_forms import TargetForm, initial_from_query
from deskpilot.core.errors import InvalidInput

_ORDER = {key: n for n, key in enumerate(KPIS)}


@dataclass
class Row:
    target: KpiTarget
    kpi: str
    rule: str
    risk: str


@dataclass
class Group:
    heading: str
    anchor: str
    rows: list[Row] = field(default_factory=list)


def _groups(book: targets.TargetBook) -> list[Group]:
    """Whole desk first, then teams, then agents, each by name; KPIs in catalogue order."""
    groups: dict[tuple[int, str, int], Group] = {}
    for target in book:
        if target.agent is not None:
            key, anchor = (2, target.agent.name.lower(), target.agent.pk), f"agent-{target.agent.pk}"
        elif target.team is not None:
            key, anchor = (1, target.team.name.lower(), target.team.pk), f"team-{target.team.pk}"
        else:
            key, anchor = (0, "", 0), "desk"
        group = groups.setdefault(key, Group(targets.scope_label(target), anchor))
        group.rows.append(Row(target, KPIS[target.kpi].label, targets.rule_text(target), targets.risk_text(target)))
    for group in groups.values():
        group.rows.sort(key=lambda row: _ORDER[row.target.kpi])
    return [groups[key] for key in sorted(groups)]


@require_GET
@manager_required
def target_list(request: HttpRequest) -> HttpResponse:
    """Every target in one query (with its team and agent)."""
    book = targets.load()
    context = {"groups": _groups(book), "count": len(book), "title": "KPI targets"}
    return render(request, "analytics/targets/list.html", context)


def _target(pk: int) -> KpiTarget:
    found = KpiTarget.objects.select_related("team", "agent").filter(pk=pk).first()
    if found is None:
        raise Http404(f"no target {pk}")
    return found


def _edit_page(request: HttpRequest, form: TargetForm, target: KpiTarget | None, *, status: int = 200) -> HttpResponse:
    title = "New KPI target"
    if target is not None:
        label = KPIS[target.kpi].label if target.kpi in KPIS else target.kpi
        title = f"{label} target · {targets.scope_label(target)}"
    context: dict[str, Any] = {
        "form": form,
        "target": target,
        "title": title,
        "description": targets.describe(target) if target is not None else "",
        # Which KPIs the direction and the unit of a plain number apply to (the form shows those
        # fields only for them): keys of the catalogue, never user input.
        "undirected": " ".join(key for key, kpi in KPIS.items() if kpi.higher_is_better is None),
        "time_kpis": " ".join(key for key, kpi in KPIS.items() if kpi.unit == Unit.SECONDS),
    }
    return render(request, "analytics/targets/edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manager_required
def target_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    target = _target(pk) if pk is not None else None
    if request.method == "GET":
        if target is None:
            form = TargetForm(initial=initial_from_query(request.GET.dict()))
        else:
            form = TargetForm(target=target)
        return _edit_page(request, form, target)
    form = TargetForm(request.POST, target=target)
    if form.is_valid():
        try:
            if target is None:
                target = targets.create_target(**form.values(), created_by=page_user(request))
                verb = "set"
            else:
                target = targets.update_target(target, **form.values())
                verb = "saved"
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(
                request,
                f"{KPIS[target.kpi].label} target {verb} for {_scope_phrase(target)}: {targets.rule_text(target)}.",
            )
            return redirect(_list_anchor(target))
    return _edit_page(request, form, target, status=422)


@require_POST  # outermost: a GET is refused (405) before who asks matters
@manager_required
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = _target(pk)
    label = KPIS[target.kpi].label if target.kpi in KPIS else target.kpi
    what = f"{label} target for {_scope_phrase(target)}"
    rule = targets.rule_text(target) if target.kpi in KPIS else ""
    targets.delete_target(target)
    # Says what it was, so a slip is set again in a moment.
    messages.success(request, f"Deleted the {what}" + (f" ({rule})." if rule else "."))
    return redirect("targets:list")


def _scope_phrase(target: KpiTarget) -> str:
    if target.agent is not None:
        return target.agent.name
    if target.team is not None:
        return f"team {target.team.name}"
    return "the whole desk"


def _list_anchor(target: KpiTarget) -> str:
    if target.agent_id is not None:
        anchor = f"agent-{target.agent_id}"
    elif target.team_id is not None:
        anchor = f"team-{target.team_id}"
    else:
        anchor = "desk"
    return f"{reverse('targets:list')}#{anchor}"
