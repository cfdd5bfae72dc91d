"""The escalation policy pages: list, form, delete after confirming."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from deskpilot.accounts.access import manager_required
from deskpilot.core.errors import InvalidInput
from deskpilot.policies import sla_actions
from deskpilot.policies.forms import EscalationPolicyForm
from deskpilot.policies.models import EscalationLevel, EscalationPolicy, SlaMetric, SlaPolicy
from deskpilot.policies.views import get_or_404, render_page


def _escalation_summary(policy: EscalationPolicy, metric_labels: dict[str, str]) -> dict[str, str]:
    when = " and ".join(w for w, on in (("warning", policy.on_warning), ("breach", policy.on_breach)) if on)
    metrics = ", ".join(metric_labels.get(m, m) for m in policy.metrics) or "all metrics"
    actions = []
    if policy.notify_assignee:
        actions.append("notify the assignee")
    if policy.notify_team_lead:
        actions.append("notify the team lead")
    if policy.notify_emails:
        actions.append("email " + ", ".join(policy.notify_emails))
    if policy.raise_priority:
        actions.append("raise the priority")
    if policy.move_to_team is not None:
        actions.append(f"move to {policy.move_to_team.name}")
    if policy.escalate_to:
        actions.append(f"escalate to {EscalationLevel(policy.escalate_to).label}")
    if policy.add_lead_as_follower:
        actions.append("add the lead as follower")
    if policy.add_tag:
        actions.append(f"tag {policy.add_tag}")
    return {"when": when, "metrics": metrics, "actions": "; ".join(actions)}


@manager_required
def escalation_list(request: HttpRequest) -> HttpResponse:
    policies = EscalationPolicy.objects.select_related("move_to_team").annotate(used_by=Count("sla_policies"))
    labels = dict(SlaMetric.choices)
    rows = [{"policy": p, **_escalation_summary(p, labels)} for p in policies.order_by("name")]
    return render_page(
        request,
        "policies/escalation_list.html",
        {"rows": rows, "title": "Escalation policies"},
        tab="policies:escalation_list",
    )


@manager_required
def escalation_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    policy = get_or_404(EscalationPolicy, pk, "escalation policy") if pk is not None else None
    status = 200
    if request.method == "POST":
        form = EscalationPolicyForm(request.POST, policy=policy)
        if form.is_valid():
            try:
                if policy is None:
                    policy = sla_actions.create_escalation_policy(**form.action_values())
                else:
                    policy = sla_actions.update_escalation_policy(policy, **form.action_values())
            except InvalidInput as error:
                form.add_action_error(error)
            else:
                messages.success(request, f"Escalation policy “{policy.name}” saved.")
                return redirect("policies:escalation_list")
        status = 422
    else:
        form = EscalationPolicyForm(policy=policy)
    context = {"form": form, "policy": policy, "title": policy.name if policy else "New escalation policy"}
    return render_page(request, "policies/escalation_edit.html", context, tab="policies:escalation_list", status=status)


@manager_required
def escalation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_or_404(EscalationPolicy, pk, "escalation policy")
    if request.method == "POST":
        sla_actions.delete_escalation_policy(policy)
        messages.success(request, f"Escalation policy “{policy.name}” deleted.")
        return redirect("policies:escalation_list")
    used = list(SlaPolicy.objects.filter(escalation=policy).values_list("name", flat=True))
    consequence = f"SLA policies that use it stop escalating: {', '.join(used)}." if used else "No SLA policy uses it."
    context = {
        "object": policy,
        "noun": "escalation policy",
        "title": f"Delete {policy.name}",
        "consequence": consequence,
        "back": reverse("policies:escalation_edit", args=[policy.pk]),
    }
    return render_page(request, "policies/confirm_delete.html", context, tab="policies:escalation_list")
