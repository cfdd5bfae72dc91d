"""The Insights pages, beside the other analytics pages."""

from django.urls import URLPattern, path

from deskpilot.feedback import insight_views

app_name = "insights"

urlpatterns: list[URLPattern] = [
    path("analytics/insights/", insight_views.insights_page, name="page"),
    path("analytics/insights/themes/<int:pk>", insight_views.theme_tickets, name="theme"),
]
