"""Managers' pages for triggers, time-based automations and macros, and the macro form on the ticket page."""

from django.urls import URLPattern, path

from deskpilot.automation import rule_views

app_name = "rules"

urlpatterns: list[URLPattern] = []
for _kind, _prefix in (("trigger", "triggers"), ("automation", "automations"), ("macro", "macros")):
    _k = {"kind": _kind}
    urlpatterns += [
        path(f"manage/{_prefix}/", rule_views.rule_list, _k, name=f"{_kind}_list"),
        path(f"manage/{_prefix}/new", rule_views.rule_edit, _k, name=f"{_kind}_new"),
        path(f"manage/{_prefix}/<int:pk>/", rule_views.rule_edit, _k, name=f"{_kind}_edit"),
        path(f"manage/{_prefix}/<int:pk>/delete", rule_views.rule_delete, _k, name=f"{_kind}_delete"),
        path(f"manage/{_prefix}/<int:pk>/move", rule_views.rule_move, _k, name=f"{_kind}_move"),
    ]
    if rule_views.KINDS[_kind].dry_run:
        urlpatterns.append(
            path(f"manage/{_prefix}/<int:pk>/dry-run", rule_views.rule_dry_run, _k, name=f"{_kind}_dry_run")
        )
urlpatterns.append(path("tickets/<int:pk>/macro", rule_views.macro_apply, name="macro_apply"))
