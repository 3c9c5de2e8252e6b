from django.core.management.base import BaseCommand

from accounts.demo import seed_accounts, seed_reseller
from billing.demo import seed_balances, seed_platform_invoices
from cart.demo import seed_orders
from compliance.demo import seed_requirements
from inventory.demo import seed_inventory


def seed_voxel_price_list(voxel):
    """Voxel's price list: +30 % on every price by default, rounded up to .x9, and a fixed
    1.00 a month more for Germany.

    LEAD: written against lane "pricing"'s ``catalog.services.markup_rule_save`` as it stood
    at 10:40 UTC; until that lands the import fails and nothing is seeded (the guard goes
    once it is on main). Runs before the demo orders, so they are bought at retail.
    """
    try:
        from catalog.services import markup_rule_save
    except ImportError:
        return 0
    from accounts.models import User

    actor = User.objects.filter(email__iexact="reseller@didportal.test").first()
    if actor is None or voxel.markup_rules.exists():
        return 0
    percent = {f"{part}_percent": 30 for part in ("setup", "recurring", "extra_channel")}
    markup_rule_save(reseller=voxel, actor=actor, scope="default", rounding="x9", **percent)
    markup_rule_save(
        reseller=voxel,
        actor=actor,
        scope="country",
        country="DE",
        rounding="x9",
        recurring_fixed=1,
        **percent,
    )
    return 2


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
        seed_platform_invoices(accounts)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({len(accounts)} accounts, {added} numbers added)."
            )
        )
