"""Managers' pages for business hours, SLA policies and escalation policies (under /manage/)."""

from django.urls import path

from deskpilot.policies.views import calendars, escalations, sla

app_name = "policies"

urlpatterns = [
    path("sla-policies/", sla.sla_list, name="sla_list"),
    path("sla-policies/new", sla.sla_edit, name="sla_new"),
    path("sla-policies/<int:pk>/", sla.sla_edit, name="sla_edit"),
    path("sla-policies/<int:pk>/delete", sla.sla_delete, name="sla_delete"),
    path("sla-policies/<int:pk>/move", sla.sla_move, name="sla_move"),
    path("sla-policies/<int:pk>/active", sla.sla_toggle, name="sla_toggle"),
    path("escalation-policies/", escalations.escalation_list, name="escalation_list"),
    path("escalation-policies/new", escalations.escalation_edit, name="escalation_new"),
    path("escalation-policies/<int:pk>/", escalations.escalation_edit, name="escalation_edit"),
    path("escalation-policies/<int:pk>/delete", escalations.escalation_delete, name="escalation_delete"),
    path("calendars/", calendars.calendar_list, name="calendar_list"),
    path("calendars/new", calendars.calendar_edit, name="calendar_new"),
    path("calendars/assignments", calendars.assignments, name="assignments"),
    path("calendars/<int:pk>/", calendars.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/delete", calendars.calendar_delete, name="calendar_delete"),
]
