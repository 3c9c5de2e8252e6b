"""Checkout by a reseller's customer (issue 11, "Money"): the customer pays retail (VAT with
the reseller as the seller), the reseller wholesale, both in the order's transaction; an item
whose wholesale the reseller cannot cover fails cleanly, uncharged, and the reseller is told
once per order. Races on PostgreSQL with real threads."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

import catalog.pricing
from billing.models import Balance, InvoiceLine, LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_mismatches
from billing.services.renewals import subscriptions_renew_due
from cart import services as cart_services
from cart.models_orders import OrderItem
from cart.orders import order_place
from inventory.models import DID
from inventory.services import dids_add
from outbox.models import OutgoingEmail
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.cart.test_checkout_concurrency import cart_with
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

D = Decimal
MUNICH_1, MUNICH_2 = "+4989555000", "+4989555001"
DE_VAT = "DE136695976"


def reseller_account(name="Voxel Telecom", discount="20"):
    reseller = AccountFactory(
        kind="reseller",
        parent=platform(),
        country="DE",
        vat_number=DE_VAT,
        wholesale_discount=D(discount),
        name=name,
    )
    UserFactory(account=reseller, role="reseller_admin", email=f"reseller{reseller.pk}@x.test")
    return reseller


def customer_admin_of(reseller, funds="100.00"):
    customer = AccountFactory(parent=reseller, country="DE")
    if funds:
        fund(customer, funds)
    return UserFactory(account=customer, role="customer_admin")


def balance(account):
    return Balance.objects.get(account=account).amount


@pytest.fixture
def markup(monkeypatch):
    """Retail = wholesale + 25 % (until the reseller price lists land, retail is wholesale)."""
    wholesale = catalog.pricing.wholesale_prices

    def retail(block, reseller):
        prices = wholesale(block, reseller)
        up = lambda v: None if v is None else (v * D("1.25")).quantize(D("0.00001"))  # noqa: E731
        return replace(
            prices,
            setup_fee=up(prices.setup_fee),
            monthly=up(prices.monthly),
            weekly=up(prices.weekly),
            extra_channel_monthly=up(prices.extra_channel_monthly),
        )

    monkeypatch.setattr(catalog.pricing, "retail_prices", retail)


@pytest.mark.django_db
def test_the_customer_pays_retail_and_the_reseller_wholesale_in_one_order(blocks, markup):
    # Munich: list setup 5.00 and 3.00 a month → wholesale (−20 %) 4.00 + 2.40, retail
    # (+25 %) 5.00 + 3.00. The German reseller sells to a German consumer: 19 % VAT.
    reseller = reseller_account()
    fund(reseller, "50.00")
    buyer = customer_admin_of(reseller)
    cart_services.cart_add_numbers(user=buyer, numbers=[MUNICH_1], billing_period="monthly")

    order = order_place(user=buyer, token="t1")

    assert order.status == "completed"
    assert (order.net, order.vat, order.gross) == (D("8.00"), D("1.52"), D("9.52"))
    sub = Subscription.objects.get(did__number=MUNICH_1)
    assert (sub.reseller, sub.recurring_price, sub.wholesale_recurring_price) == (
        reseller,
        D("3.00"),
        D("2.40"),
    )
    wholesale = sub.charges.get(side="wholesale")
    assert (wholesale.account, wholesale.net, wholesale.amount) == (reseller, D("6.40"), D("6.40"))
    assert (balance(buyer.account), balance(reseller)) == (D("90.48"), D("43.60"))
    # The order's invoice bills the customer's sale charge only.
    lines = InvoiceLine.objects.filter(invoice=order.invoice)
    assert {line.subscription_charge.side for line in lines} == {"sale"}
    assert order.invoice.gross == D("9.52")
    assert not list(balance_mismatches())


@pytest.mark.django_db
def test_an_item_the_reseller_cannot_cover_fails_cleanly_and_the_reseller_is_told_once(blocks):
    reseller = reseller_account()
    fund(reseller, "10.00")  # one number's wholesale (6.40, reverse charge), not two
    buyer = customer_admin_of(reseller)
    cart_services.cart_add_numbers(
        user=buyer, numbers=[MUNICH_1, MUNICH_2], billing_period="monthly"
    )

    order = order_place(user=buyer, token="t1")

    assert order.status == "partial"
    sold, failed = order.items.order_by("position")
    assert sold.status == "completed"
    assert failed.status == "failed" and failed.gross == 0
    assert failed.failure_reason == (
        "This number cannot be supplied right now; nothing was charged for it. "
        "Voxel Telecom has been told."
    )
    assert DID.objects.get(number=MUNICH_2).status == "in_stock"
    assert not Subscription.objects.filter(did__number=MUNICH_2).exists()
    assert order.gross == sold.gross
    assert (balance(buyer.account), balance(reseller)) == (D("100.00") - sold.gross, D("3.60"))
    (notice,) = OutgoingEmail.objects.filter(key=f"reseller-unpaid-order:{order.pk}")
    assert notice.to == [reseller.users.get().email]
    assert "+49 89 555001" in notice.text or MUNICH_2 in notice.text.replace(" ", "")
    # Nothing about the reseller's balance reaches the customer.
    assert "10.00" not in failed.failure_reason and "3.60" not in failed.failure_reason
    assert not list(balance_mismatches())


# --- Races ----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_customers_race_against_a_reseller_balance_covering_ten(platform_admin):
    block = NumberBlockFactory(
        country="DE", area_code="30", monthly_price=D("2.00"), setup_fee=D("0.00")
    )
    dids_add(block=block, spec_text="+4930555000-+4930555019", actor=platform_admin)
    numbers = list(DID.objects.filter(block=block).order_by("pk"))
    reseller = reseller_account(discount="0")
    fund(reseller, "20.00")  # ten wholesale periods of 2.00 (reverse charge)
    buyers = [customer_admin_of(reseller, funds="60.00") for _ in range(20)]
    for user, did in zip(buyers, numbers, strict=True):
        cart_with(user, block, [did])

    results = run_in_threads(lambda i: order_place(user=buyers[i], token=f"race-{i}"))

    assert not [r for r in results if isinstance(r, Exception)], results
    items = OrderItem.objects.filter(order__account__parent=reseller)
    assert items.filter(status="completed").count() == 10
    assert items.filter(status="failed", gross=0).count() == 10
    charges = SubscriptionCharge.objects.filter(subscription__reseller=reseller)
    assert charges.filter(side="sale").count() == 10
    assert charges.filter(side="wholesale", account=reseller).count() == 10
    assert DID.objects.filter(block=block, status="active").count() == 10
    # The ten who got nothing paid nothing; the ten who got a number paid once.
    for user in buyers:
        paid = LedgerEntry.objects.filter(account=user.account, kind="charge").count()
        got = items.filter(order__account=user.account, status="completed").count()
        assert paid == got
    assert balance(reseller) == D("0.00")
    assert not Balance.objects.filter(amount__lt=0).exists()
    assert not list(balance_mismatches())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_checkouts_and_a_renewal_run_on_one_reseller_do_not_deadlock(platform_admin):
    """Customers of one reseller check out (locking themselves and the reseller) while the
    renewal run renews other customers of the same reseller (locking them all in one
    statement): every one finishes, the ledger agrees with the balances."""
    block = NumberBlockFactory(country="DE", area_code="30", monthly_price=D("2.00"))
    dids_add(block=block, spec_text="+4930555000-+4930555009", actor=platform_admin)
    numbers = list(DID.objects.filter(block=block).order_by("pk"))
    reseller = reseller_account(discount="0")
    fund(reseller, "200.00")
    past = timezone.now() - timedelta(days=40)
    renewing = []
    for _ in range(10):
        customer = AccountFactory(parent=reseller, country="DE")
        fund(customer, "50.00")
        for _ in range(3):
            renewing.append(start(customer, did=held_did(customer), price="2.00", now=past))
    buyers = [customer_admin_of(reseller, funds="60.00") for _ in range(10)]
    for user, did in zip(buyers, numbers, strict=True):
        cart_with(user, block, [did])

    def work(i):
        if i in (0, 5):
            return subscriptions_renew_due(batch_size=7)
        return order_place(user=buyers[i], token=f"race-{i}")

    results = run_in_threads(work, count=10)

    assert not [r for r in results if isinstance(r, Exception)], results
    renewed = sum(r["renewed"] for r in (results[0], results[5]))
    assert renewed == 30
    assert OrderItem.objects.filter(status="completed").count() == 8
    per_side = SubscriptionCharge.objects.values("side").annotate(n=Sum("amount"))
    assert {row["side"] for row in per_side} == {"sale", "wholesale"}
    sales = SubscriptionCharge.objects.filter(side="sale", subscription__reseller=reseller)
    wholesales = SubscriptionCharge.objects.filter(side="wholesale")
    assert sales.count() == wholesales.count() == 30 * 2 + 8
    assert not Balance.objects.filter(amount__lt=0).exists()
    assert not list(balance_mismatches())


# --- What the customer reads about a hold that is not its balance ---------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cause", "label", "banner"),
    [
        ("reseller_unpaid", "On hold — your provider is sorting it out", "Nothing was charged"),
        ("account_suspended", "On hold — account suspended", "Your account is suspended"),
        ("customer_unpaid", "On hold — renewal unpaid", "Top up your balance"),
    ],
)
def test_my_numbers_says_why_without_asking_for_a_top_up_it_does_not_need(
    client, cause, label, banner
):
    import re

    from django.urls import reverse

    from billing.services.subscriptions import mark_held

    reseller = reseller_account()
    fund(reseller, "10.00")
    user = customer_admin_of(reseller)
    sub = start(user.account, did=held_did(user.account), price="2.00")
    mark_held(sub, now=timezone.now(), job="tests", cause=cause)
    client.force_login(user)

    listing = re.sub(r"\s+", " ", client.get(reverse("cart:my_numbers")).content.decode())
    detail = client.get(reverse("cart:my_number", args=[sub.did_id])).content.decode()
    detail = re.sub(r"\s+", " ", detail)

    assert label in listing
    assert banner in detail
    assert ("Top up your balance" in detail) == (cause == "customer_unpaid")
    balance_page = re.sub(r"\s+", " ", client.get(reverse("billing:balance")).content.decode())
    # The balance page lists only what a top-up brings back.
    assert ("unpaid since" in balance_page) == (cause == "customer_unpaid")
