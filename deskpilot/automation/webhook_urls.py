"""Managers' pages for webhook subscriptions and their delivery log."""

from django.urls import URLPattern, path

from deskpilot.automation import webhook_views

app_name = "webhooks"

urlpatterns: list[URLPattern] = [
    path("manage/webhooks/", webhook_views.subscription_list, name="list"),
    path("manage/webhooks/new", webhook_views.subscription_edit, name="new"),
    path("manage/webhooks/<int:pk>/", webhook_views.subscription_edit, name="edit"),
    path("manage/webhooks/<int:pk>/delete", webhook_views.subscription_delete, name="delete"),
    path("manage/webhooks/<int:pk>/active", webhook_views.subscription_toggle, name="toggle"),
    path("manage/webhooks/<int:pk>/rotate-secret", webhook_views.rotate_secret, name="rotate_secret"),
    path("manage/webhooks/<int:pk>/test", webhook_views.send_test, name="send_test"),
    path("manage/webhooks/<int:pk>/deliveries", webhook_views.delivery_log, name="deliveries"),
    path("manage/webhooks/<int:pk>/deliveries/<int:delivery_id>", webhook_views.delivery_detail, name="delivery"),
    path("manage/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver", webhook_views.redeliver, name="redeliver"),
]
