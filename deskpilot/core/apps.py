from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "deskpilot.core"
    label = "core"
    verbose_name = "Core"
