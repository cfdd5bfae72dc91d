"""Managers' pages for business hours, SLA policies and escalation policies (under /manage/)."""

from django.urls import path

from deskpilot.policies import views

app_name = "policies"

urlpatterns = [
    path("sla-policies/", views.sla_list, name="sla_list"),
    path("sla-policies/new", views.sla_edit, name="sla_new"),
    path("sla-policies/<int:pk>/", views.sla_edit, name="sla_edit"),
    path("sla-policies/<int:pk>/delete", views.sla_delete, name="sla_delete"),
    path("sla-policies/<int:pk>/move", views.sla_move, name="sla_move"),
    path("sla-policies/<int:pk>/active", views.sla_toggle, name="sla_toggle"),
    path("escalation-policies/", views.escalation_list, name="escalation_list"),
    path("escalation-policies/new", views.escalation_edit, name="escalation_new"),
    path("escalation-policies/<int:pk>/", views.escalation_edit, name="escalation_edit"),
    path("escalation-policies/<int:pk>/delete", views.escalation_delete, name="escalation_delete"),
    path("calendars/", views.calendar_list, name="calendar_list"),
    path("calendars/new", views.calendar_edit, name="calendar_new"),
    path("calendars/assignments", views.assignments, name="assignments"),
    path("calendars/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/delete", views.calendar_delete, name="calendar_delete"),
]
