"""Pages of received mail (views_inbound.py): the original of a message, the failed mail and
spam lists. Their own namespace, beside the outbound pages' ``mail``."""

from django.urls import path

from deskpilot.mail import views_inbound as views

app_name = "mail_inbound"

urlpatterns = [
    path("mail/inbound/<int:inbound_id>", views.inbound_detail, name="inbound"),
    path("mail/inbound/<int:inbound_id>/raw", views.inbound_raw, name="inbound_raw"),
    path("mail/failed", views.failed_list, name="failed"),
    path("mail/failed/retry", views.failed_retry_all, name="failed_retry_all"),
    path("mail/failed/<int:inbound_id>/retry", views.failed_retry, name="failed_retry"),
    path("mail/spam", views.spam_list, name="spam"),
    path("mail/spam/<int:inbound_id>/not-spam", views.spam_release, name="spam_release"),
]
