"""The KPI targets pages."""

from django.urls import URLPattern

app_name = "targets"

urlpatterns: list[URLPattern] = []
