"""manage.py renew_subscriptions: the beat job ``billing.tasks.renew_subscriptions``."""

from django.core.management.base import BaseCommand

from billing.services.renewals import (
    subscriptions_renew_due,
    subscriptions_resume_due,
)


class Command(BaseCommand):
    help = "Charge every subscription period due and put unpaid numbers on hold."

    def handle(self, *args, **options):
        counts = subscriptions_renew_due(job="renew_subscriptions")
        resumed = subscriptions_resume_due(job="renew_subscriptions")
        self.stdout.write(
            self.style.SUCCESS(
                f"Renewed {counts['renewed']}, on hold {counts['hold']}, ended {counts['ended']}, "
                f"failed {counts['failed']}, resumed after top-up {resumed}."
            )
        )
