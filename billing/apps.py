from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        # inventory calls this when a number changes hands (it never imports billing).
        from inventory.services import dependents  # noqa: PLC0415

        from .services.numbers import SubscriptionsFollowNumbers  # noqa: PLC0415

        dependents.register(SubscriptionsFollowNumbers())
