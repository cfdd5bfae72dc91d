"""The email channel's pages."""

from django.urls import path

from deskpilot.mail import views

app_name = "mail"

urlpatterns = [
    path("mail/outbound/<int:outbound_id>/retry", views.outbound_retry, name="outbound_retry"),
]
