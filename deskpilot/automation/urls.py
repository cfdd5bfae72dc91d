"""Managers' pages for routing, triggers, automations, macros and webhooks."""

from django.urls import URLPattern

app_name = "automation"

urlpatterns: list[URLPattern] = []
