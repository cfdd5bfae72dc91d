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

        # Triggers act on every ticket change inside its transaction (rules.engine), before
        # routing, so a ticket a trigger moves to a team is routed within the same change.
        from deskpilot.automation.rules import engine as rule_engine
        from deskpilot.tickets.signals import events_recorded as rule_events

        rule_events.connect(rule_engine.on_events_recorded, dispatch_uid="deskpilot.automation.triggers")

        # Routing: an unassigned ticket of a routed team gets an agent inside the change that
        # left it unassigned; availability expires when the agent signs out.
        from django.contrib.auth.signals import user_logged_out

        from deskpilot.automation import routing_service
        from deskpilot.tickets.signals import events_recorded

        events_recorded.connect(routing_service.on_events_recorded, dispatch_uid="deskpilot.automation.routing")
        user_logged_out.connect(routing_service.on_signed_out, dispatch_uid="deskpilot.automation.routing.signout")
