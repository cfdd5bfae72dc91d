from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "deskpilot.mail"
    label = "mail"
    verbose_name = "Email"
