from decimal import Decimal

import pytest

from accounts.demo import seed_accounts
from billing.demo import seed_balances
from billing.models import LedgerEntry
from billing.selectors import balance_for

pytestmark = pytest.mark.django_db


def test_seed_balances_is_idempotent():
    accounts = seed_accounts()
    seed_balances(accounts)
    seed_balances(accounts)
    assert balance_for(accounts["direct"]) == Decimal("100.00")
    assert balance_for(accounts["resold"]) == Decimal("75.00")
    entries = LedgerEntry.objects.all()
    assert entries.count() == 2
    assert {e.created_by.email for e in entries} == {"finance@didportal.test"}


def test_seed_invoices_places_the_demo_orders_once():
    from billing.models import Invoice
    from billing.selectors import balance_mismatches
    from inventory.demo import seed_inventory

    accounts = seed_accounts()
    seed_inventory()
    seed_balances(accounts)
    seed_balances(accounts)

    direct, resold = accounts["direct"], accounts["resold"]
    first = Invoice.objects.get(idempotency_key="demo-order:1")
    assert (first.account, first.source, first.lines.count()) == (direct, "order", 3)
    assert first.gross == Decimal("16.00")  # US buyer: no VAT
    assert Invoice.objects.filter(account=direct).count() == 2
    assert Invoice.objects.get(account=resold).vat == Decimal("0.19")  # German VAT
    assert balance_for(direct) == Decimal("81.00") >= Decimal("60.00")  # checkout needs 50
    assert balance_for(resold) == Decimal("73.81")
    assert direct.dids.filter(status="active").count() == 3
    assert not balance_mismatches().exists()
