"""Managers' pages for triggers, time-based automations and macros, and the macro form on the ticket page."""

from django.urls import URLPattern

app_name = "rules"

urlpatterns: list[URLPattern] = []
