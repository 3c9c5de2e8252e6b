"""The one cart quote: setup, first period, extra capacity, VAT per part, × quantity."""

from decimal import Decimal as D

import pytest

from billing.services.subscriptions import (
    block_price_snapshot,
)
from billing.tax import OUTSIDE_EU_NOTE, REVERSE_CHARGE_NOTE
from cart import services
from cart.models import Cart
from cart.pricing import cart_quote, line_quote
from tests.factories import AccountFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def munich(blocks):
    return blocks["munich"]  # setup 5.00, 3.00 / month, 0.90 / week, 2 included, 1.50 extra


def test_eu_consumer_pays_their_country_vat_per_part(munich, vat_rates):
    consumer = AccountFactory(country="DE")
    quote = line_quote(block=munich, channels=4, billing_period="monthly", account=consumer)
    assert quote.vat_rate == D("19")
    assert (quote.setup_fee, quote.period_price, quote.extra_capacity) == (
        D("5.00"),
        D("3.00"),
        D("3.00"),
    )
    assert quote.extra_channels == 2
    assert quote.recurring == D("6.00")
    assert (quote.unit_net, quote.unit_vat, quote.unit_gross) == (D("11.00"), D("2.09"), D("13.09"))
    assert (quote.net, quote.vat, quote.gross) == (D("11.00"), D("2.09"), D("13.09"))
    assert quote.note == "" and not quote.reverse_charge


def test_vat_is_rounded_per_part_like_the_charge(vat_rates):
    block = NumberBlockFactory(setup_fee=D("0.03"), monthly_price=D("0.03"))
    consumer = AccountFactory(country="DE")
    quote = line_quote(block=block, channels=2, billing_period="monthly", account=consumer)
    # 0.03 × 19 % = 0.0057 → 0.01, twice; on the sum it would be 0.0114 → 0.01.
    assert quote.unit_vat == D("0.02")


def test_reverse_charge_for_an_eu_business_elsewhere(munich, vat_rates):
    business = AccountFactory(country="DE", vat_number="DE136695976")
    quote = line_quote(block=munich, channels=2, billing_period="weekly", account=business)
    assert quote.vat == D("0.00") and quote.reverse_charge
    assert quote.note == REVERSE_CHARGE_NOTE
    assert quote.gross == D("5.90")


def test_no_vat_outside_the_eu(munich, vat_rates):
    american = AccountFactory(country="US")
    quote = line_quote(block=munich, channels=2, billing_period="monthly", account=american)
    assert (quote.vat_rate, quote.vat, quote.gross) == (D("0"), D("0.00"), D("8.00"))
    assert quote.note == OUTSIDE_EU_NOTE


def test_quantity_multiplies_the_unit(munich, vat_rates):
    consumer = AccountFactory(country="DE")
    quote = line_quote(
        block=munich, channels=3, billing_period="weekly", quantity=3, account=consumer
    )
    # The extra channel is 1.50 a month: 1.50 × 12 / 52 = 0.34615 a week.
    # Unit: 5.00 + (0.90 + 0.34615 → 1.25) = 6.25; VAT 0.95 + 0.24 = 1.19.
    assert quote.extra_channel_price == D("0.34615")
    assert (quote.unit_net, quote.unit_vat) == (D("6.25"), D("1.19"))
    assert (quote.net, quote.vat, quote.gross) == (D("18.75"), D("3.57"), D("22.32"))
    assert quote.first_period_total == D("3.75") and quote.setup_total == D("15.00")


def test_the_recurring_price_matches_the_subscription_snapshot(vat_rates):
    block = NumberBlockFactory(
        setup_fee=D("1.23456"),
        monthly_price=D("1.23456"),
        channels_included=1,
        extra_channel_monthly_price=D("0.33333"),
    )
    consumer = AccountFactory(country="DE")
    quote = line_quote(block=block, channels=3, billing_period="monthly", account=consumer)
    snapshot = block_price_snapshot(block=block, period="monthly", channels=3)
    assert quote.recurring == snapshot["recurring_price"] == D("1.90")
    assert quote.setup_fee == snapshot["setup_fee"] == D("1.23")
    assert quote.extra_capacity + quote.period_price == quote.recurring


def test_a_one_time_block_charges_setup_and_extra_channels_once(vat_rates):
    block = NumberBlockFactory(
        billing_type="one_time", monthly_price=None, extra_channel_monthly_price=D("2.00")
    )
    american = AccountFactory(country="US")
    quote = line_quote(block=block, channels=3, billing_period="one_time", account=american)
    assert (quote.setup_fee, quote.period_price, quote.extra_capacity) == (
        D("1.00"),
        D("0.00"),
        D("2.00"),
    )
    assert quote.gross == D("3.00") and quote.period_noun == ""


def test_a_period_the_block_does_not_offer_is_refused(munich):
    with pytest.raises(ValueError):
        line_quote(block=munich, channels=2, billing_period="daily", account=AccountFactory())


def test_cart_totals_are_sums_of_the_lines(blocks, customer_admin, vat_rates):
    services.cart_add_numbers(user=customer_admin, numbers=["+4989555000"], channels=3)
    services.cart_add_any(user=customer_admin, block=blocks["amsterdam"], quantity=2)
    quote = cart_quote(Cart.objects.get(user=customer_admin))
    # München: 5.00 + 3.00 + 1.50 = 9.50, VAT 0.95 + 0.86;
    # Amsterdam: 2 × (1.00 + 2.00), VAT 2 × 0.57.
    assert [line.gross for _, line in quote.lines] == [D("11.31"), D("7.14")]
    assert (quote.net, quote.vat, quote.gross) == (D("15.50"), D("2.95"), D("18.45"))
    assert (quote.setup, quote.first_period, quote.count) == (D("7.00"), D("8.50"), 3)
    assert quote.vat_rate == D("19")
