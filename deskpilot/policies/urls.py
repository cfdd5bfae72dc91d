"""Managers' pages for business hours, SLA policies and escalation policies."""

from django.urls import URLPattern

app_name = "policies"

urlpatterns: list[URLPattern] = []
