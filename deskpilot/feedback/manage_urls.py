"""The manager's survey pages, under /manage/surveys/."""

from django.urls import URLPattern, path

from deskpilot.feedback import manage_views

app_name = "feedback_manage"

urlpatterns: list[URLPattern] = [
    path("manage/surveys/", manage_views.survey_list, name="list"),
    path("manage/surveys/new", manage_views.survey_edit, name="new"),
    path("manage/surveys/<int:pk>/", manage_views.survey_edit, name="edit"),
    path("manage/surveys/<int:pk>/delete", manage_views.survey_delete, name="delete"),
    path("manage/surveys/settings", manage_views.settings_save, name="settings"),
    path("manage/surveys/reasons", manage_views.reasons_save, name="reasons"),
]
