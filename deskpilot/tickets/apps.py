from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "deskpilot.tickets"
    label = "tickets"
    verbose_name = "Tickets"
