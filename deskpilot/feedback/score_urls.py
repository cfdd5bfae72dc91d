"""The survey scores pages, beside the other analytics pages."""

from django.urls import URLPattern, path

from deskpilot.feedback import score_views

app_name = "feedback_scores"

urlpatterns: list[URLPattern] = [
    path("analytics/feedback/", score_views.scores_page, name="scores"),
    path("analytics/feedback/answers", score_views.answers_page, name="answers"),
]
