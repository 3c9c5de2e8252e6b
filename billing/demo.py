"""Demo balances for `make run`, on the accounts from accounts.demo.seed_accounts().

The demo orders (and so their invoices) are placed through the real checkout by
``cart.demo.seed_orders`` once the balances are in.
"""

from decimal import Decimal

from django.db import transaction

from accounts.models import User

from .services import topup_record

JOB = "seed_demo"

DEMO_TOPUPS = [
    # (account key, amount, bank transfer reference)
    ("direct", Decimal("100.00"), "DEMO-DIRECT-0001"),
    ("resold", Decimal("75.00"), "DEMO-RESOLD-0001"),
    # The reseller pays the platform the wholesale side of its customers' numbers.
    ("reseller", Decimal("200.00"), "DEMO-RESELLER-0001"),
]


@transaction.atomic
def seed_balances(accounts):
    """Top up the demo customers once (fixed references make a re-run a no-op)."""
    finance = User.objects.filter(email__iexact="finance@didportal.test").first()
    for key, amount, reference in DEMO_TOPUPS:
        account = accounts[key]
        # Whoever collects the money records it: a reseller for its customers.
        collector = finance
        if account.reseller is not None:
            collector = User.objects.filter(
                account=account.reseller, role="reseller_admin", is_active=True
            ).first()
        topup_record(
            account=account,
            amount=amount,
            external_reference=reference,
            actor=collector,
            job="" if collector else JOB,
            idempotency_key=f"demo:topup:{key}",
        )
