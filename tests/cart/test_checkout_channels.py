"""Channels chosen at checkout above the plan are given up from the next period like added
capacity (issue 10, item 17), and added capacity is priced by ``catalog.pricing`` only, per
the number's period (items 5 and 18)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.models import Subscription
from billing.selectors import balance_for, balance_mismatches
from billing.services.capacity import (
    capacity_add,
    capacity_quote,
    capacity_reduce,
    capacity_reduce_plan,
    number_channels,
)
from billing.services.renewals import subscriptions_renew_due
from billing.services.subscriptions import subscriptions_end_due
from cart import services as cart_services
from cart.orders import order_place
from catalog.pricing import block_prices
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

S = Subscription.Status
APRIL = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
MUNICH_1 = "+4989555000"


@pytest.fixture
def buyer(customer_admin):
    """A buyer outside the EU: no VAT, so every charge is exactly the price."""
    account = customer_admin.account
    account.country = "US"
    account.save(update_fields=["country"])
    fund(account, "100.00")
    return customer_admin


def buy(user, *, channels, period="monthly"):
    """Check out one Munich number (setup 5.00, 3.00 a month or 0.90 a week, 2 channels
    included, 1.50 a month per extra channel); its rental."""
    cart_services.cart_add_numbers(
        user=user, numbers=[MUNICH_1], channels=channels, billing_period=period
    )
    order = order_place(user=user, token=f"order:{channels}:{period}", ip_address="203.0.113.9")
    return order.items.get().subscription


def test_checkout_records_the_plan_channels_and_the_extra_channels_price(buyer, blocks):
    rental = buy(buyer, channels=4)
    assert (rental.channels, rental.included_channels) == (4, 2)
    assert (rental.recurring_price, rental.extra_channels_price) == (
        Decimal("6.00"),
        Decimal("3.00"),
    )
    channels = number_channels(rental)
    assert (channels.included, channels.extra, channels.total) == (2, 2, 4)


def test_checkout_channels_go_down_to_the_plan_from_the_next_period(buyer, blocks):
    with time_machine.travel(APRIL, tick=False) as clock:
        rental = buy(buyer, channels=4)
        period_end = rental.current_period_end
        clock.move_to(APRIL + timedelta(days=10))

        plan = capacity_reduce(number_subscription=rental, channels=2, actor=buyer)

        assert (plan.before, plan.after, plan.effective_at) == (4, 2, period_end)
        rental.refresh_from_db()
        assert (rental.channels, rental.recurring_price, rental.extra_channels_price) == (
            2,
            Decimal("3.00"),
            Decimal("0.00"),
        )
        channels = number_channels(rental)
        assert (channels.total, channels.now, channels.ending_at) == (2, 4, period_end)
        given_up = Subscription.objects.get(kind="capacity", did=rental.did)
        assert (given_up.status, given_up.channels, given_up.recurring_price) == (
            S.CANCELLED,
            2,
            Decimal("3.00"),
        )
        assert not given_up.charges.exists()  # paid with the number's first month
        assert "chosen at checkout" in given_up.description

        clock.move_to(period_end + timedelta(minutes=1))
        subscriptions_renew_due()
        subscriptions_end_due()

    rental.refresh_from_db()
    renewal = rental.charges.get(period_index=1)
    assert renewal.amount == Decimal("3.00")  # the plan alone
    given_up.refresh_from_db()
    assert given_up.status == S.ENDED and not given_up.charges.exists()
    assert number_channels(rental).now == 2
    spent = Decimal("5.00") + Decimal("6.00") + Decimal("3.00")
    assert balance_for(buyer.account) == Decimal("100.00") - spent
    assert list(balance_mismatches()) == []


def test_the_plan_is_the_floor(buyer, blocks):
    rental = buy(buyer, channels=4)
    with pytest.raises(ValidationError, match="2 channels come with this number's plan"):
        capacity_reduce(number_subscription=rental, channels=1, actor=buyer)


def test_checkout_channels_count_as_the_oldest_purchase(buyer, blocks):
    with time_machine.travel(APRIL, tick=False) as clock:
        rental = buy(buyer, channels=4)
        clock.move_to(APRIL + timedelta(days=1))
        added = capacity_add(
            number_subscription=rental, extra_channels=1, actor=buyer, idempotency_key="c:1"
        )
        # 5 → 4: the newest purchase (the added channel) goes, the checkout's stay.
        plan = capacity_reduce_plan(number_subscription=rental, channels=4)
        assert [sub.pk for sub in plan.cancel] == [added.pk]
        # 5 → 3: the checkout's two channels are the exact fit.
        capacity_reduce(number_subscription=rental, channels=3, actor=buyer)
        again = capacity_reduce(number_subscription=rental, channels=3, actor=buyer)

    assert not again.changes_anything  # a repeat changes nothing
    rental.refresh_from_db()
    added.refresh_from_db()
    assert (rental.channels, rental.recurring_price) == (2, Decimal("3.00"))
    assert added.status == S.ACTIVE
    assert number_channels(rental).total == 3


def test_added_channels_are_priced_by_catalog_pricing_for_the_numbers_period(buyer, blocks):
    """1.50 a month per channel is 1.50 × 12 / 52 = 0.34615 a week: two channels added to a
    weekly number cost 0.69 a week (it was 1.50 each a week before: per "billing period")."""
    with time_machine.travel(APRIL, tick=False):
        rental = buy(buyer, channels=2, period="weekly")
        before = balance_for(buyer.account)
        quote = capacity_quote(number_subscription=rental, extra_channels=2)
        capacity = capacity_add(
            number_subscription=rental, extra_channels=2, actor=buyer, idempotency_key="c:2"
        )
    weekly = block_prices(blocks["munich"], buyer.account).extra_channel_price("weekly")
    assert quote.channel_price == weekly == Decimal("0.34615")
    assert capacity.recurring_price == quote.recurring_price == Decimal("0.69")
    assert capacity.charges.get().amount == Decimal("0.69")  # the whole week is ahead
    assert balance_for(buyer.account) == before - Decimal("0.69")
    assert "at 0.34615 per week each" in capacity.description


def test_callers_cannot_pass_a_price(buyer, blocks):
    rental = buy(buyer, channels=2)
    with pytest.raises(TypeError):
        capacity_add(
            number_subscription=rental,
            extra_channels=2,
            channel_price=Decimal("0"),
            actor=buyer,
            idempotency_key="c:free",
        )
    with pytest.raises(TypeError):
        capacity_quote(number_subscription=rental, extra_channels=2, channel_price=Decimal("0"))
    assert not Subscription.objects.filter(kind="capacity").exists()
