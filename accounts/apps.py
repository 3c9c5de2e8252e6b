from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and users"

    def ready(self):
        from . import checks  # noqa: F401, PLC0415 (registers the system checks)
