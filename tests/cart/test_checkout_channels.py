"""Channels chosen at checkout above the plan are given up from the next period like added
capacity (issue 10, item 17), and added capacity is priced by ``catalog.pricing`` only, per
the number's period (items 5 and 18)."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

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
from outbox.models import OutgoingEmail
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


# --- Pages ----------------------------------------------------------------------------------


def page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def number_url(name, rental):
    return reverse(f"cart:{name}", args=[rental.did_id])


def test_a_crafted_price_in_the_post_is_ignored(client, buyer, blocks):
    with time_machine.travel(APRIL, tick=False) as clock:
        rental = buy(buyer, channels=2)
        clock.move_to(APRIL + timedelta(days=10))
        quote = capacity_quote(number_subscription=rental, extra_channels=2)
        client.force_login(buyer)
        crafted = {"channel_price": "0", "price": "0", "extra_channel_price": "0.00"}
        confirm = {"channels": "4", "confirm": "True", "token": str(uuid.uuid4()), **crafted}
        response = client.post(number_url("my_number_channels", rental), confirm)
    assert response.status_code == 302
    capacity = Subscription.objects.get(kind="capacity")
    assert capacity.recurring_price == Decimal("3.00")  # 2 × 1.50 a month
    assert capacity.charges.get().amount == quote.gross > 0


def test_my_numbers_gives_up_checkout_channels_from_the_next_period(client, buyer, blocks):
    rental = buy(buyer, channels=4)
    client.force_login(buyer)
    detail = page_text(client.get(number_url("my_number", rental)))
    assert "2 with the number, 2 extra" in detail
    assert "3.00 number + 3.00 extra channels, per month" in detail
    assert "Each extra channel costs 1.50 USD per month" in detail
    assert "The plan includes 2; going down to as few as 2" in detail

    asked = client.post(number_url("my_number_channels", rental), {"channels": "2"})
    text = page_text(asked)
    assert "Go down to 2 channels" in text and "Extra channels chosen at checkout" in text
    token = re.search(r'name="token" value="([^"]+)"', asked.content.decode()).group(1)
    done = client.post(
        number_url("my_number_channels", rental),
        {"channels": "2", "confirm": "True", "token": token},
    )
    assert done.status_code == 302
    end = timezone.localtime(rental.current_period_end)
    after = page_text(client.get(done.url))
    assert f"keeps 4 channels until {end.day} {end:%b %Y}, then 2" in after
    assert "3.00 USD per month" in after
    rental.refresh_from_db()
    assert (rental.channels, rental.recurring_price) == (2, Decimal("3.00"))


def test_the_block_form_asks_for_the_price_per_month(client, platform_admin):
    client.force_login(platform_admin)
    text = page_text(client.get(reverse("inventory:block_create")))
    assert "Extra channel price per month" in text
    assert "monthly × 12 / 52 a week" in text and "monthly × 12 / 365 a day" in text


def test_the_catalog_shows_the_extra_channel_price_per_month(client, blocks):
    text = page_text(client.get(reverse("catalog:country", args=["DE"])))
    assert "+1.50 / month each extra" in text
    assert "the price of each extra channel per month" in text


def test_the_cart_says_what_an_extra_channel_costs_per_week(client, buyer, blocks):
    cart_services.cart_add_numbers(
        user=buyer, numbers=[MUNICH_1], channels=3, billing_period="weekly"
    )
    client.force_login(buyer)
    text = page_text(client.get(reverse("cart:cart")))
    assert "2 included, extra 0.34615 each per week." in text
    assert "(1 × 0.34615 per week)" in text


def test_the_checkout_and_the_order_e_mail_say_per_month(client, buyer, blocks):
    cart_services.cart_add_numbers(
        user=buyer, numbers=[MUNICH_1], channels=4, billing_period="monthly"
    )
    client.force_login(buyer)
    checkout = page_text(client.get(reverse("cart:checkout")))
    assert "4 channels (2 extra at 1.50 per month each)" in checkout
    order = order_place(user=buyer, token="order:mail", ip_address="203.0.113.9")
    mail = OutgoingEmail.objects.get(key=f"order-confirmation:{order.pk}")
    assert "then 6.00 USD per month + VAT" in mail.text
    assert "then 6.00 USD per month + VAT" in mail.html
