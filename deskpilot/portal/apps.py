from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "deskpilot.portal"
    label = "portal"
    verbose_name = "Customer portal"
