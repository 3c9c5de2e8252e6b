"""Demo balances and invoices for `make run`, on the accounts from accounts.demo.seed_accounts().

The demo customers buy a few numbers from the demo inventory through the same services
checkout uses (a number assigned by inventory's transition, a subscription charging its first
period, an invoice for the charges), so the invoice and report pages have something to show.
"""

from decimal import Decimal

from django.db import transaction

from accounts.models import User
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import did_transition

from .models import Invoice
from .services import topup_record
from .services.invoices import invoice_for_charges
from .services.subscriptions import (
    block_price_snapshot,
    subscription_start,
)

JOB = "seed_demo"

DEMO_TOPUPS = [
    # (account key, amount, bank transfer reference)
    ("direct", Decimal("100.00"), "DEMO-DIRECT-0001"),
    ("resold", Decimal("75.00"), "DEMO-RESOLD-0001"),
]

DEMO_ORDERS = [
    # (account key, invoice idempotency key, numbers: (country, area code, period))
    # Acme (US, outside the EU: no VAT): a New York number and a toll-free one, 16.00 USD;
    # then a London number, 3.00 USD — 81.00 USD stay on the balance.
    ("direct", "demo-order:1", [("US", "212", "monthly"), ("US", "800", "monthly")]),
    ("direct", "demo-order:2", [("GB", "20", "monthly")]),
    # Bäckerei Schmidt (DE, no VAT number: German VAT), a Chicago number, 1.19 USD.
    ("resold", "demo-order:resold:1", [("US", "312", "monthly")]),
]


@transaction.atomic
def seed_balances(accounts):
    """Top up the demo customers once (fixed references make a re-run a no-op), then place
    the demo orders (once: each is keyed by its invoice)."""
    finance = User.objects.filter(email__iexact="finance@didportal.test").first()
    for key, amount, reference in DEMO_TOPUPS:
        topup_record(
            account=accounts[key],
            amount=amount,
            external_reference=reference,
            actor=finance,
            job="" if finance else JOB,
            idempotency_key=f"demo:topup:{key}",
        )
    seed_invoices(accounts)


def _free_number(country, area_code):
    return (
        DID.objects.filter(
            block__country=country,
            block__area_code=area_code,
            status=DIDStatus.IN_STOCK,
            cart_held_until__isnull=True,
        )
        .select_related("block")
        .order_by("number")
        .first()
    )


@transaction.atomic
def seed_invoices(accounts):
    """Place each demo order not placed yet; returns the invoices issued now.

    An order whose numbers the demo inventory does not have (not seeded) is left out.
    """
    issued = []
    for account_key, invoice_key, wanted in DEMO_ORDERS:
        account = accounts[account_key]
        if Invoice.objects.filter(idempotency_key=invoice_key).exists():
            continue
        dids = [_free_number(country, area_code) for country, area_code, _ in wanted]
        if None in dids:
            continue
        charges = []
        for position, (did, (_, _, period)) in enumerate(zip(dids, wanted, strict=True), 1):
            did = did_transition(
                did=did, to_status=DIDStatus.ACTIVE, owner=account, job=JOB, reason="demo order"
            )
            subscription = subscription_start(
                account=account,
                did=did,
                billing_type="recurring",
                idempotency_key=f"{invoice_key}:{position}",
                job=JOB,
                **block_price_snapshot(block=did.block, period=period),
            )
            charges.extend(subscription.charges.all())
        issued.append(
            invoice_for_charges(
                account=account,
                charges=charges,
                source=Invoice.Source.ORDER,
                idempotency_key=invoice_key,
                reference=("demo_order", invoice_key.rsplit(":", 1)[-1]),
                job=JOB,
            )
        )
    return issued
