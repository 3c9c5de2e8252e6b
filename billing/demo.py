"""Demo balances for `make run`, on the accounts from accounts.demo.seed_accounts().

The demo orders (and so their invoices) are placed through the real checkout by
``cart.demo.seed_orders`` once the balances are in.
"""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .models import Invoice
from .services import topup_record
from .services.invoices import invoices_issue_daily

JOB = "seed_demo"

DEMO_TOPUPS = [
    # (account key, amount, bank transfer reference)
    ("direct", Decimal("100.00"), "DEMO-DIRECT-0001"),
    ("resold", Decimal("75.00"), "DEMO-RESOLD-0001"),
    ("resold2", Decimal("60.00"), "DEMO-RESOLD-0002"),
    # Voxel pays the platform wholesale for what its customers buy.
    ("reseller", Decimal("500.00"), "DEMO-VOXEL-0001"),
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


def seed_platform_invoices(accounts):
    """The platform's daily invoice, run once now for today's charges: Voxel gets its
    invoice for the wholesale side of what its customers bought (one invoice per account
    and day; a re-run finds the charges invoiced and issues nothing)."""
    voxel = accounts["reseller"]
    if Invoice.objects.filter(account=voxel, source=Invoice.Source.DAILY).exists():
        return 0
    return invoices_issue_daily(now=timezone.now() + timedelta(days=1), job=JOB)
