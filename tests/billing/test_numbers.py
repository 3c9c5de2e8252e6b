"""Numbers an admin assigns under a package are billed like bought ones (issue 10, item 23):
a subscription at the package's price per number, else the number's own price; the first
period charged at once, renewed by the renewal job, invoiced on the daily invoice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Invoice, LedgerEntry, Subscription
from billing.selectors import balance_for
from billing.services.invoices import invoices_issue_daily
from billing.services.renewals import subscriptions_renew_due
from inventory.models import DID
from inventory.services import did_assign
from tests.billing.factories import fund
from tests.inventory.factories import (
    ClientPackageFactory,
    DIDFactory,
    NumberBlockFactory,
    PackageFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def did(db):
    # Monthly 2.00 and a 1.00 setup fee (the factory's plan); the customer is in DE: 19 % VAT.
    return DIDFactory(block=NumberBlockFactory(), number="+31205559000")


def assign(did, customer, admin, number_price):
    client_package = ClientPackageFactory(
        account=customer, package=PackageFactory(number_price=number_price)
    )
    return did_assign(did=did, account=customer, client_package=client_package, actor=admin)


def test_without_a_package_price_the_number_costs_its_own_price(did, customer, platform_admin):
    fund(customer, "20.00")
    assign(did, customer, platform_admin, number_price=None)

    sub = Subscription.objects.get(did=did)
    assert (sub.account, sub.status, sub.billing_type, sub.period_unit) == (
        customer,
        "active",
        "recurring",
        "month",
    )
    assert (sub.recurring_price, sub.setup_fee, sub.channels) == (
        Decimal("2.00"),
        Decimal("1.00"),
        2,
    )
    first = sub.charges.get()
    assert (first.net, first.vat, first.amount) == (
        Decimal("3.00"),
        Decimal("0.57"),
        Decimal("3.57"),
    )
    assert balance_for(customer) == Decimal("16.43")

    # Invoiced the next day with the other charges of the day; renewed like any rental.
    assert invoices_issue_daily(now=sub.created_at + timedelta(days=1)) == 1
    assert {line.subscription_charge for line in Invoice.objects.get().lines.all()} == {first}
    assert subscriptions_renew_due(now=sub.next_renewal_at)["renewed"] == 1
    assert balance_for(customer) == Decimal("16.43") - Decimal("2.38")


def test_a_package_price_replaces_the_numbers_price(did, customer, platform_admin):
    fund(customer, "20.00")
    assign(did, customer, platform_admin, number_price=Decimal("5.00"))
    sub = Subscription.objects.get(did=did)
    assert (sub.recurring_price, sub.setup_fee, sub.period_unit) == (
        Decimal("5.00"),
        Decimal("0.00"),
        "month",
    )
    assert sub.charges.get().amount == Decimal("5.95")


def test_a_free_package_starts_a_subscription_without_charges(did, customer, platform_admin):
    assign(did, customer, platform_admin, number_price=Decimal("0.00"))
    sub = Subscription.objects.get(did=did)
    assert (sub.recurring_price, sub.charges.get().amount) == (Decimal("0.00"), Decimal("0.00"))
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_a_balance_that_does_not_cover_the_first_period_refuses_the_assignment(
    did, customer, platform_admin
):
    with pytest.raises(ValidationError, match=r"does not cover the first period \(3.57 USD"):
        assign(did, customer, platform_admin, number_price=None)
    did.refresh_from_db()
    assert (did.status, did.owner) == ("in_stock", None)
    assert not Subscription.objects.exists()


def test_the_console_says_why_an_assignment_was_refused(client, did, customer, platform_admin):
    client_package = ClientPackageFactory(
        account=customer, package=PackageFactory(number_price=None)
    )
    client.force_login(platform_admin)
    response = client.post(
        reverse("inventory:did_assign", args=[did.pk]), {"client_package": client_package.pk}
    )
    assert "does not cover the first period" in response.content.decode()
    assert DID.objects.get(pk=did.pk).status == "in_stock"
