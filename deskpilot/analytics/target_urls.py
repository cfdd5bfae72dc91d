"""The KPI targets pages (managers and admins)."""

from django.urls import URLPattern, path

from deskpilot.analytics import target_views

app_name = "targets"

urlpatterns: list[URLPattern] = [
    path("analytics/targets", target_views.target_list, name="list"),
    path("analytics/targets/new", target_views.target_edit, name="new"),
    path("analytics/targets/<int:pk>/edit", target_views.target_edit, name="edit"),
    path("analytics/targets/<int:pk>/delete", target_views.target_delete, name="delete"),
]
