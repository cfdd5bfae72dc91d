from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "deskpilot.policies"
    label = "policies"
    verbose_name = "Policies"
