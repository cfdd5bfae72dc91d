"""The analytics pages."""

from django.urls import path

from deskpilot.analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/operations", views.operations, name="operations"),
    path("analytics/operations/live", views.operations_live, name="operations_live"),
]
