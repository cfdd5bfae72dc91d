from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "deskpilot.policies"
    label = "policies"
    verbose_name = "Policies"

    def ready(self) -> None:
        from deskpilot.policies import escalations, sla
        from deskpilot.tickets.signals import events_recorded

        # SLA clocks first (this app comes before automation): triggers then see current SLA state.
        events_recorded.connect(sla.on_events_recorded, dispatch_uid="deskpilot.policies.sla")
        # Warnings and breaches the clocks record set off the ticket's escalation policy.
        events_recorded.connect(escalations.on_events_recorded, dispatch_uid="deskpilot.policies.escalations")
