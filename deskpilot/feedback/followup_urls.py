"""The follow-up queue of negative survey answers."""

from django.urls import URLPattern, path

from deskpilot.feedback import followup_views

app_name = "feedback_follow_ups"

urlpatterns: list[URLPattern] = [
    path("feedback-follow-ups/", followup_views.follow_up_list, name="list"),
    path("feedback-follow-ups/<int:pk>/close", followup_views.follow_up_close, name="close"),
    path("feedback-follow-ups/<int:pk>/reopen", followup_views.follow_up_reopen, name="reopen"),
]
