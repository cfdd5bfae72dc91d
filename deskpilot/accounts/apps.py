from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "deskpilot.accounts"
    label = "accounts"
    verbose_name = "Accounts"
