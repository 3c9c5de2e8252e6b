from django.core.management.base import BaseCommand

from accounts.demo import seed_accounts, seed_reseller
from billing.demo import seed_balances, seed_platform_invoices
from cart.demo import seed_orders
from catalog.demo import seed_voxel_price_list
from compliance.demo import seed_registrations, seed_requirements
from inventory.demo import seed_inventory
from payments.demo import seed_bank_statements


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it again changes nothing)."

    def handle(self, *args, **options):
        accounts = seed_accounts()
        added = seed_inventory()
        seed_requirements()
        accounts["reseller"] = seed_reseller(accounts)
        seed_voxel_price_list(accounts["reseller"])
        seed_balances(accounts)
        seed_orders()
        seed_registrations()
        seed_platform_invoices(accounts)
        seed_bank_statements(accounts)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({len(accounts)} accounts, {added} numbers added)."
            )
        )
