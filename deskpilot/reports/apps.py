from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "deskpilot.reports"
    label = "reports"
    verbose_name = "Reports"
