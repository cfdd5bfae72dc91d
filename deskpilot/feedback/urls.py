"""The customer's survey pages (reached from e-mail links, no sign-in)."""

from django.urls import URLPattern, path

from deskpilot.feedback import views

app_name = "feedback"

urlpatterns: list[URLPattern] = [
    path("feedback/<str:token>/", views.survey, name="survey"),
    path("feedback/<str:token>/answer/<int:score>", views.answer, name="answer"),
    path("feedback/<str:token>/unsubscribe", views.unsubscribe, name="unsubscribe"),
]
