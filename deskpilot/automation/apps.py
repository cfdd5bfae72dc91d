from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "deskpilot.automation"
    label = "automation"
    verbose_name = "Automation"

    def ready(self) -> None:
        from deskpilot.automation import webhooks
        from deskpilot.tickets.signals import ticket_changed

        # Webhook subscribers hear about every ticket change, whatever wrote it.
        ticket_changed.connect(webhooks.on_ticket_changed, dispatch_uid="deskpilot.automation.webhooks")
