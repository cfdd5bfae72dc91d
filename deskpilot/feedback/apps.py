from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "deskpilot.feedback"
    label = "feedback"
    verbose_name = "Customer feedback"
