from django.urls import path

from deskpilot.core import views

app_name = "core"

urlpatterns = [
    path("manage/", views.manage_home, name="manage"),
    path("notifications", views.notification_list, name="notifications"),
    path("notifications/read-all", views.notification_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/open", views.notification_open, name="notification_open"),
]
