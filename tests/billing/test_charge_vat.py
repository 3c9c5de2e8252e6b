"""Every charge carries the VAT decided for the buyer at the time of the charge."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import TaxRate
from billing.selectors import balance_for, balance_mismatches
from billing.services.renewals import (
    subscription_renew,
)
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start

pytestmark = pytest.mark.django_db


def test_first_charge_adds_vat_per_part_for_an_eu_consumer(customer):
    # DE 19 %: setup 1.05 → VAT 0.1995 → 0.20; period 2.05 → 0.3895 → 0.39.
    fund(customer, "10.00")
    sub = start(customer, price="2.05", setup="1.05")
    first = sub.charges.get()
    assert (first.net, first.setup_net, first.vat, first.amount) == (
        Decimal("3.10"),
        Decimal("1.05"),
        Decimal("0.59"),
        Decimal("3.69"),
    )
    assert (first.vat_rate, first.vat_country, first.reverse_charge) == (
        Decimal("19.00"),
        "DE",
        False,
    )
    assert first.ledger_entry.amount == Decimal("-3.69")
    assert balance_for(customer) == Decimal("6.31")


def test_renewal_uses_the_rate_of_the_day_it_is_charged(customer):
    fund(customer, "10.00")
    sub = start(customer, unit="day", price="2.00")
    TaxRate.objects.filter(country="DE").update(rate=Decimal("20.00"))
    subscription_renew(subscription=sub, now=timezone.now() + timedelta(days=1, minutes=1))
    first, second = sub.charges.order_by("period_index")
    assert (first.vat, first.amount) == (Decimal("0.38"), Decimal("2.38"))
    assert (second.vat_rate, second.vat, second.amount) == (
        Decimal("20.00"),
        Decimal("0.40"),
        Decimal("2.40"),
    )
    assert balance_for(customer) == Decimal("5.22")
    assert list(balance_mismatches()) == []


def test_reverse_charge_for_an_eu_business_elsewhere(customer):
    customer.country, customer.vat_number = "FR", "FR40303265045"
    customer.save()
    fund(customer, "10.00")
    charge = start(customer, price="2.00").charges.get()
    assert (charge.vat, charge.amount, charge.reverse_charge) == (
        Decimal("0.00"),
        Decimal("2.00"),
        True,
    )


def test_no_vat_outside_the_eu(customer):
    customer.country = "US"
    customer.save()
    fund(customer, "10.00")
    charge = start(customer, price="2.00").charges.get()
    assert (charge.vat_rate, charge.vat, charge.amount) == (
        Decimal("0"),
        Decimal("0"),
        Decimal("2.00"),
    )
