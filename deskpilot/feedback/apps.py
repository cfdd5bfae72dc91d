from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "deskpilot.feedback"
    label = "feedback"
    verbose_name = "Customer feedback"

    def ready(self) -> None:
        from deskpilot.feedback import receivers
        from deskpilot.tickets.signals import ticket_changed

        ticket_changed.connect(receivers.on_ticket_changed, dispatch_uid="deskpilot.feedback.surveys")
