"""Checkout under concurrency, on PostgreSQL with real threads: nothing sold twice, no
overdraft, one order per token, no deadlock."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from billing.models import LedgerEntry, Subscription
from billing.selectors import balance_mismatches
from cart.models import Cart, CartItem
from cart.models_orders import Order, OrderItem
from cart.orders import CheckoutRefused, order_place
from inventory.models import DID
from inventory.services import dids_add
from tests.billing.factories import fund
from tests.concurrency import run_in_threads, run_pooled
from tests.factories import AccountFactory, UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def stocked_block(admin, count, **prices):
    block = NumberBlockFactory(**prices)
    dids_add(block=block, spec_text=f"5550000-{5550000 + count - 1}", actor=admin)
    return block


def buyer(account=None, funds="100.00"):
    account = account or AccountFactory()
    if funds:
        fund(account, funds)
    return UserFactory(account=account, role="customer_admin")


def cart_with(user, block, dids=(), quantity=0):
    """A cart written directly (no cart holds), so many carts can list the same numbers:
    checkout alone must decide who gets them."""
    cart = Cart.objects.create(user=user, account=user.account)
    for did in dids:
        CartItem.objects.create(
            cart=cart, block=block, did=did, channels=1, billing_period="monthly"
        )
    if quantity:
        CartItem.objects.create(
            cart=cart, block=block, quantity=quantity, channels=1, billing_period="monthly"
        )
    return cart


def attempt(user, token):
    try:
        return order_place(user=user, token=token)
    except CheckoutRefused as exc:
        return exc


def test_fifty_buyers_race_for_ten_numbers(platform_admin):
    block = stocked_block(platform_admin, 10)
    dids = list(DID.objects.filter(block=block).order_by("pk"))
    buyers = [buyer() for _ in range(50)]
    for i, user in enumerate(buyers):  # every number is wanted by 15 buyers
        cart_with(user, block, [dids[i % 10], dids[(i + 3) % 10], dids[(i + 7) % 10]])

    results = run_pooled(lambda i: order_place(user=buyers[i], token=f"race-{i}"), count=50)

    assert not [r for r in results if isinstance(r, Exception)], results
    sold = OrderItem.objects.filter(status="completed")
    assert sold.count() == 10
    assert sold.values("did").distinct().count() == 10
    assert DID.objects.filter(block=block, status="active").count() == 10
    # Each number has one owner, one live subscription, one order item that sold it.
    per_did = Subscription.objects.values("did").annotate(n=Count("pk"))
    assert {row["n"] for row in per_did} == {1}
    for did in DID.objects.filter(block=block):
        item = sold.get(did=did)
        assert item.order.account_id == did.owner_id
    # Losers: failed items, not charged; every charge belongs to a sold item.
    failed = OrderItem.objects.filter(status="failed")
    assert failed.count() == 150 - 10
    assert all("no longer available" in item.failure_reason for item in failed)
    charged = LedgerEntry.objects.filter(kind="charge").aggregate(s=Sum("amount"))["s"]
    assert -charged == sold.aggregate(s=Sum("gross"))["s"]
    assert LedgerEntry.objects.filter(kind="charge").count() == 10
    assert list(balance_mismatches()) == []


def test_hundred_checkouts_against_one_balance(platform_admin, settings):
    settings.MIN_PURCHASE_BALANCE = Decimal("0.00")
    block = stocked_block(platform_admin, 120, setup_fee=Decimal("0"), monthly_price=Decimal("10"))
    account = AccountFactory(country="US")  # no VAT: each order costs exactly 10.00
    fund(account, "500.00")
    users = [buyer(account, funds=None) for _ in range(100)]
    for user in users:
        cart_with(user, block, quantity=1)

    results = run_pooled(lambda i: attempt(users[i], f"spend-{i}"), count=100)

    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, CheckoutRefused)]
    others = [r for r in results if not isinstance(r, Order | CheckoutRefused)]
    assert not others, others
    assert len(orders) == 50 and len(refused) == 50
    assert all(order.gross == Decimal("10.00") for order in orders)
    account.balance.refresh_from_db()
    assert account.balance.amount == Decimal("0.00")
    assert not LedgerEntry.objects.filter(account=account, balance_after__lt=0).exists()
    ledger_sum = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
    assert ledger_sum == Decimal("0.00")
    assert DID.objects.filter(owner=account).count() == 50
    assert list(balance_mismatches()) == []


def test_one_token_twenty_times_makes_one_order(platform_admin):
    block = stocked_block(platform_admin, 5)
    user = buyer()
    cart_with(user, block, quantity=2)

    results = run_in_threads(lambda i: order_place(user=user, token="double-click"), count=20)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert {order.pk for order in results} == {Order.objects.get().pk}
    assert OrderItem.objects.filter(status="completed").count() == 2
    assert LedgerEntry.objects.filter(kind="charge").count() == 2
    assert DID.objects.filter(owner=user.account).count() == 2


def test_carts_listing_numbers_in_opposite_orders_do_not_deadlock(platform_admin):
    block = stocked_block(platform_admin, 20)
    dids = list(DID.objects.filter(block=block).order_by("pk"))
    buyers = [buyer() for _ in range(8)]
    for i, user in enumerate(buyers):
        cart_with(user, block, dids if i % 2 else list(reversed(dids)))

    results = run_in_threads(lambda i: order_place(user=buyers[i], token=f"o-{i}"), count=8)

    assert not [r for r in results if isinstance(r, Exception)], results  # no deadlock
    assert OrderItem.objects.filter(status="completed").count() == 20
    assert DID.objects.filter(block=block, status="active").count() == 20


def test_the_database_refuses_a_second_live_owner(platform_admin):
    block = stocked_block(platform_admin, 1)
    user = buyer()
    cart_with(user, block, quantity=1)
    order = order_place(user=user, token="t")
    sub = order.items.get().subscription
    other = AccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            account=other,
            did=sub.did,
            billing_type="one_time",
            recurring_price=0,
            anchor_at=sub.anchor_at,
            current_period_start=sub.anchor_at,
            currency="USD",
            idempotency_key="second-owner",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        DID.objects.filter(pk=sub.did_id).update(owner=None)  # active needs its owner
