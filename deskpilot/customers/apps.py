from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "deskpilot.customers"
    label = "customers"
    verbose_name = "Customers"
