from django.core.management.base import BaseCommand

from accounts.demo import seed_accounts
from billing.demo import seed_balances
from cart.demo import seed_orders
from compliance.demo import seed_requirements
from inventory.demo import seed_inventory


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it again changes nothing)."

    def handle(self, *args, **options):
        accounts = seed_accounts()
        added = seed_inventory()
        seed_requirements()
        seed_balances(accounts)
        seed_orders()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({len(accounts)} accounts, {added} numbers added)."
            )
        )
