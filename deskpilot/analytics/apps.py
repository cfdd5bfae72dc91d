from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "deskpilot.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from deskpilot.analytics import rebuild, ticket_metrics
        from deskpilot.policies.signals import clocks_rebuilt
        from deskpilot.tickets.signals import events_recorded

        # Connected after the SLA clock and the automation (this app comes after theirs), so the
        # record sees the policy they chose and the changes their rules made in the same change.
        events_recorded.connect(ticket_metrics.on_events_recorded, dispatch_uid="deskpilot.analytics.ticket_metrics")
        # The bulk SLA recompute writes findings without the live path: those tickets' records again.
        clocks_rebuilt.connect(rebuild.on_clocks_rebuilt, dispatch_uid="deskpilot.analytics.rebuild")
