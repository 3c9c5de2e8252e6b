"""Demo orders go through the real checkout: every demo invoice belongs to an order that
exists (issue 10, item 23)."""

from decimal import Decimal

import pytest

from accounts.demo import seed_accounts
from billing.demo import seed_balances
from billing.models import Invoice
from billing.selectors import balance_for, balance_mismatches
from cart.demo import seed_orders
from cart.models import Order
from compliance.demo import seed_requirements
from inventory.demo import seed_inventory

pytestmark = pytest.mark.django_db


def test_demo_orders_are_real_orders_with_their_invoices_placed_once():
    accounts = seed_accounts()
    seed_inventory()
    seed_requirements()
    seed_balances(accounts)
    assert len(seed_orders()) == 6
    assert seed_orders() == []  # a second run changes nothing

    direct, resold = accounts["direct"], accounts["resold"]
    orders = Order.objects.order_by("pk")
    assert [o.status for o in orders] == ["completed"] * 6
    for invoice in Invoice.objects.all():
        assert invoice.source == "order" and invoice.reference_type == "order"
        assert Order.objects.get(pk=invoice.reference_id).invoice == invoice
    first = orders[0].invoice
    assert (first.account, first.lines.count()) == (direct, 3)
    assert first.gross == Decimal("16.00")  # US buyer: no VAT
    assert Invoice.objects.filter(account=direct).count() == 2
    assert Invoice.objects.get(account=resold).vat > 0  # German VAT
    studio = accounts["resold2"]  # Voxel's second customer
    assert studio.dids.filter(status="active").count() == 2
    # Checkout needs 50; the Paris number (8.00) is charged, awaiting registration.
    assert balance_for(direct) == Decimal("73.00")
    assert direct.dids.filter(status="active").count() == 3
    assert direct.dids.filter(status="awaiting_registration").count() == 1
    assert resold.dids.filter(status="awaiting_registration").count() == 1
    assert not balance_mismatches().exists()
