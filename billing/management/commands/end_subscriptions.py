"""manage.py end_subscriptions: the beat job ``billing.tasks.end_subscriptions``."""

from django.core.management.base import BaseCommand

from billing.services.subscriptions import (
    subscriptions_end_due,
    subscriptions_end_released,
)


class Command(BaseCommand):
    help = "End cancelled subscriptions past their period and those whose number was released."

    def handle(self, *args, **options):
        cancelled = subscriptions_end_due(job="end_subscriptions")
        released = subscriptions_end_released(job="end_subscriptions")
        self.stdout.write(
            self.style.SUCCESS(f"Ended {cancelled} cancelled and {released} released.")
        )
