"""The SLA policy pages: the ordered list (move, position, active toggle, conditions and targets in
words), the form with the target matrix, and delete after confirming."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from deskpilot.accounts.access import manager_required
from deskpilot.accounts.models import Team
from deskpilot.core.errors import InvalidInput
from deskpilot.customers.models import Organization, Tier
from deskpilot.policies import sla_actions
from deskpilot.policies.forms import SlaPolicyForm
from deskpilot.policies.models import SlaMetric, SlaPolicy, SlaTarget
from deskpilot.policies.views import duration, get_or_404, render_page
from deskpilot.tickets.models import Channel, Priority, TicketType


@dataclass
class PolicyRow:
    policy: SlaPolicy
    conditions: list[str]
    targets: list[str] = field(default_factory=list)


def _labels(values: list[Any], names: dict[Any, str]) -> str:
    return ", ".join(names.get(v, str(v)) for v in values)


def _policy_rows(policies: list[SlaPolicy]) -> list[PolicyRow]:
    """Each policy with its conditions and targets in words (team and organization names read in
    one query each for the whole list)."""
    team_ids = {int(t) for p in policies for t in p.teams}
    org_ids = {int(o) for p in policies for o in p.organizations}
    teams = dict(Team.objects.filter(pk__in=team_ids).values_list("pk", "name")) if team_ids else {}
    orgs = dict(Organization.objects.filter(pk__in=org_ids).values_list("pk", "name")) if org_ids else {}
    priorities, channels, types = dict(Priority.choices), dict(Channel.choices), dict(TicketType.choices)
    metric_labels = dict(SlaMetric.choices)
    order = {p: i for i, p in enumerate(reversed(Priority.values))}  # urgent first
    rows = []
    for policy in policies:
        conditions = []
        for label, values, names in (
            ("Priority", policy.priorities, priorities),
            ("Team", policy.teams, teams),
            ("Organization", policy.organizations, orgs),
            ("Tier", policy.tiers, dict(Tier.choices)),
            ("Channel", policy.channels, channels),
            ("Type", policy.types, types),
            ("Tag", policy.tags, {}),
        ):
            if values:
                conditions.append(f"{label}: {_labels(values, names)}")
        by_metric: dict[str, list[SlaTarget]] = defaultdict(list)
        for target in policy.targets.all():
            by_metric[target.metric].append(target)
        targets = []
        for metric in SlaMetric.values:
            found = sorted(by_metric.get(metric, []), key=lambda t: (order.get(t.priority, 9), t.team_id or 0))
            if not found:
                continue
            parts = []
            for t in found:
                who = priorities.get(t.priority, "") if t.team_id is None else (t.team.name if t.team else "")
                parts.append(f"{who} {duration(t.minutes)}{' (business)' if t.business_hours else ''}")
            targets.append(f"{metric_labels[metric]}: " + ", ".join(parts))
        rows.append(PolicyRow(policy, conditions or ["Any ticket"], targets))
    return rows


@manager_required
def sla_list(request: HttpRequest) -> HttpResponse:
    policies = list(
        SlaPolicy.objects.select_related("calendar", "escalation")
        .prefetch_related(Prefetch("targets", queryset=SlaTarget.objects.select_related("team")))
        .order_by("position", "id")
    )
    return render_page(
        request,
        "policies/sla_list.html",
        {"rows": _policy_rows(policies), "title": "SLA policies"},
        tab="policies:sla_list",
    )


@manager_required
def sla_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_or_404(SlaPolicy, pk, "SLA policy") if pk is not None else None
    status = 200
    if request.method == "POST":
        form = SlaPolicyForm(request.POST, policy=policy)
        if form.is_valid():
            try:
                if policy is None:
                    values = form.action_values()
                    policy = sla_actions.create_sla_policy(**values)
                else:
                    policy = sla_actions.update_sla_policy(policy, **form.action_values())
            except InvalidInput as error:
                form.add_action_error(error, form.field_map())
            else:
                messages.success(request, f"SLA policy “{policy.name}” saved; open tickets are being re-checked.")
                return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")
        status = 422
    else:
        form = SlaPolicyForm(policy=policy)
    context = {"form": form, "policy": policy, "title": policy.name if policy else "New SLA policy"}
    return render_page(request, "policies/sla_edit.html", context, tab="policies:sla_list", status=status)


@manager_required
def sla_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_or_404(SlaPolicy, pk, "SLA policy")
    if request.method == "POST":
        sla_actions.delete_sla_policy(policy)
        messages.success(request, f"SLA policy “{policy.name}” deleted; open tickets are being re-checked.")
        return redirect("policies:sla_list")
    context = {
        "object": policy,
        "noun": "SLA policy",
        "title": f"Delete {policy.name}",
        "consequence": "Tickets it applies to are matched against the other policies; their history stays.",
        "back": reverse("policies:sla_edit", args=[policy.pk]),
    }
    return render_page(request, "policies/confirm_delete.html", context, tab="policies:sla_list")


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def sla_move(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_or_404(SlaPolicy, pk, "SLA policy")
    direction = request.POST.get("direction")
    position = request.POST.get("position", "").strip()
    try:
        if direction in ("up", "down"):
            sla_actions.move_sla_policy(policy, -1 if direction == "up" else 1)
        elif position.isdigit() and int(position) >= 1:
            ids = list(SlaPolicy.objects.order_by("position", "id").values_list("pk", flat=True))
            ids.remove(policy.pk)
            ids.insert(int(position) - 1, policy.pk)
            sla_actions.reorder_sla_policies(ids)
        else:
            raise InvalidInput("position", "choose up, down, or a position from 1")
    except InvalidInput as error:
        messages.error(request, str(error))
    return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")


@require_POST  # first: a GET is refused (405) whoever asks
@manager_required
def sla_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_or_404(SlaPolicy, pk, "SLA policy")
    active = request.POST.get("active") == "on"
    if active != policy.active:
        sla_actions.set_sla_policy_active(policy, active)
        messages.success(request, f"SLA policy “{policy.name}” {'activated' if active else 'deactivated'}.")
    return redirect(reverse("policies:sla_list") + f"#policy-{policy.pk}")
