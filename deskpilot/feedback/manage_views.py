"""The manager's survey pages (under /manage/surveys/): the surveys with how many were sent and
answered, a survey's form, deletion after confirming, the desk's survey settings and the reasons
offered for a negative answer. Thin: the forms shape the request, ``feedback.actions`` writes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from deskpilot.accounts.access import manager_required
from deskpilot.core.errors import InvalidInput
from deskpilot.feedback import actions
from deskpilot.feedback.forms import ReasonsForm, SettingsForm, SurveyForm
from deskpilot.feedback.models import FeedbackSettings, InvitationStatus, Survey, SurveyKind, SurveyReason
from deskpilot.feedback.surveys import DEFAULT_TEXTS


def _survey(pk: int) -> Survey:
    found = Survey.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(f"no survey {pk}")
    return found


def _kind(raw: str | None) -> str:
    return raw if raw is not None and raw in SurveyKind.values else str(SurveyKind.CSAT)


def _list_context(
    settings_form: SettingsForm | None = None, reasons_forms: dict[str, ReasonsForm] | None = None
) -> dict[str, Any]:
    surveys = (
        Survey.objects.select_related("team")
        .annotate(
            sent=Count("invitations", filter=Q(invitations__status=InvitationStatus.SENT)),
            answered=Count("invitations", filter=Q(invitations__response__isnull=False)),
        )
        .order_by("kind", "team__name", "language", "name")
    )
    reasons: dict[str, list[str]] = {kind: [] for kind in SurveyKind.values}
    for reason in SurveyReason.objects.filter(active=True):
        reasons[reason.kind].append(reason.label)
    forms = reasons_forms or {}
    return {
        "title": "Surveys",
        "surveys": surveys,
        "settings_form": settings_form or SettingsForm.for_settings(FeedbackSettings.current()),
        "reason_forms": [
            (
                kind,
                label,
                forms.get(kind) or ReasonsForm(initial={"kind": kind, "reasons": "\n".join(reasons[kind])}),
            )
            for kind, label in SurveyKind.choices
        ],
    }


@require_http_methods(["GET"])
@manager_required
def survey_list(request: HttpRequest) -> HttpResponse:
    return render(request, "feedback/manage_list.html", _list_context())


@require_http_methods(["GET", "POST"])
@manager_required
def survey_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    survey = _survey(pk) if pk is not None else None
    status = 200
    if request.method == "POST":
        form = SurveyForm(request.POST, survey=survey)
        if form.is_valid():
            try:
                survey = actions.save_survey(survey, form.action_values())
            except InvalidInput as error:
                form.add_action_error(error)
            else:
                messages.success(request, f"Survey “{survey.name}” saved.")
                return redirect("feedback_manage:list")
        status = 422
    elif survey is None:
        kind = _kind(request.GET.get("kind"))
        texts = DEFAULT_TEXTS[kind]
        initial = {
            "kind": kind,
            "active": True,
            "scale": "five",
            "delay_minutes": 24 * 60 if kind == SurveyKind.CSAT else 0,
            "frequency": "quarterly" if kind == SurveyKind.NPS else "",
            "comment_prompt": "Anything you would like to add?",
            "thanks": "Thank you for your answer.",
            **texts,
        }
        form = SurveyForm(initial=initial)
    else:
        form = SurveyForm(survey=survey)
    title = survey.name if survey else "New survey"
    return render(request, "feedback/survey_edit.html", {"form": form, "survey": survey, "title": title}, status=status)


@require_http_methods(["GET", "POST"])
@manager_required
def survey_delete(request: HttpRequest, pk: int) -> HttpResponse:
    survey = _survey(pk)
    if request.method == "POST":
        actions.delete_survey(survey)
        messages.success(request, f"Survey “{survey.name}” deleted.")
        return redirect("feedback_manage:list")
    scheduled = survey.invitations.filter(status=InvitationStatus.SCHEDULED).count()
    context = {"survey": survey, "title": f"Delete {survey.name}", "scheduled": scheduled}
    return render(request, "feedback/survey_delete.html", context)


@require_POST
@manager_required
def settings_save(request: HttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            actions.save_settings(
                throttle_days=form.cleaned_data["throttle_days"], link_days=form.cleaned_data["link_days"]
            )
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(request, "Survey settings saved.")
            return redirect("feedback_manage:list")
    return render(request, "feedback/manage_list.html", _list_context(settings_form=form), status=422)


@require_POST
@manager_required
def reasons_save(request: HttpRequest) -> HttpResponse:
    form = ReasonsForm(request.POST)
    if form.is_valid():
        try:
            actions.set_reasons(form.cleaned_data["kind"], form.labels())
        except InvalidInput as error:
            form.add_action_error(error)
        else:
            messages.success(request, "Reasons saved.")
            return redirect("feedback_manage:list")
    kind = _kind(request.POST.get("kind"))
    return render(request, "feedback/manage_list.html", _list_context(reasons_forms={kind: form}), status=422)
