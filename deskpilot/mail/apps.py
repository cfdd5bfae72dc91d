from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "deskpilot.mail"
    label = "mail"
    verbose_name = "Email"

    def ready(self) -> None:
        from deskpilot.mail import outbound
        from deskpilot.tickets.signals import ticket_changed

        # Public agent replies are emailed, new requests acknowledged, assignments announced,
        # whatever wrote the change (page, API, rules, CLI): tickets.actions knows nothing of mail.
        ticket_changed.connect(outbound.on_ticket_changed, dispatch_uid="deskpilot.mail.outbound")
