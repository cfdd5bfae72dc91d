"""The reports pages: scheduled reports (managers and admins)."""

from django.urls import URLPattern, path

from deskpilot.reports import views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("reports/schedules/", views.schedule_list, name="schedules"),
    path("reports/schedules/new", views.schedule_edit, name="schedule_new"),
    path("reports/schedules/<int:pk>/", views.schedule_edit, name="schedule_edit"),
    path("reports/schedules/<int:pk>/delete", views.schedule_delete, name="schedule_delete"),
    path("reports/schedules/<int:pk>/send", views.send_now, name="send_now"),
    path("reports/schedules/<int:pk>/deliveries", views.delivery_log, name="deliveries"),
    path("reports/schedules/<int:pk>/deliveries/<int:delivery_id>/retry", views.retry, name="retry"),
]
