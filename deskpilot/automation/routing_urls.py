"""Managers' and agents' routing pages: team routing settings, agent skills, capacity and availability."""

from django.urls import URLPattern

app_name = "routing"

urlpatterns: list[URLPattern] = []
