"""The analytics pages."""

from django.urls import path

from deskpilot.analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/operations", views.operations, name="operations"),
    path("analytics/operations/live", views.operations_live, name="operations_live"),
    path("analytics/performance", views.performance_page, name="performance"),
    path("analytics/performance.pdf", views.performance_pdf, name="performance_pdf"),
    path("analytics/tickets", views.drilldown_page, name="drilldown"),
    path("analytics/scorecards", views.scorecards_page, name="scorecards"),
]
