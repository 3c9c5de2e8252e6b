"""Packages and self-service buying (issue 10, item 15): a package limits catalog purchases
only when it says so; then the limit is checked where a number is added to the cart and again
at checkout, and the message says what the package allows."""

import pytest
from django.urls import reverse

from billing.models import LedgerEntry
from cart import services
from cart.models import CartItem
from cart.models_orders import Order
from inventory.models import DID
from inventory.services import did_assign
from tests.billing.factories import fund
from tests.inventory.factories import ClientPackageFactory, PackageFactory

pytestmark = pytest.mark.django_db

A0, A1, A2 = "+31205550000", "+31205550001", "+31205550002"
MUNICH = "+4989555000"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/numbers/NL/search/"}
LIMIT_MESSAGE = "Your package “Starter” allows 2 numbers: you hold 1, so you can add 1 more."


@pytest.fixture
def shopper(client, customer_admin, blocks, vat_rates):
    fund(customer_admin.account, "100.00")
    client.force_login(customer_admin)
    return client


def package_with_one_assigned(account, admin, *, limits_self_service, max_dids=2):
    client_package = ClientPackageFactory(
        account=account,
        package=PackageFactory(
            name="Starter", max_dids=max_dids, limits_self_service=limits_self_service
        ),
    )
    did_assign(
        did=DID.objects.get(number=A2), account=account, client_package=client_package, actor=admin
    )
    return client_package


def checkout(client):
    token = client.get(reverse("cart:checkout")).context["token"]
    return client.post(reverse("cart:checkout"), {"token": token})


def test_a_package_given_for_assignments_does_not_cap_catalog_buying(
    shopper, customer_admin, platform_admin
):
    client_package = package_with_one_assigned(
        customer_admin.account, platform_admin, limits_self_service=False, max_dids=1
    )
    shopper.post(reverse("cart:add"), {"numbers": [A0, A1]})
    assert CartItem.objects.count() == 2

    response = checkout(shopper)

    assert response.status_code == 302, response.context["errors"]
    assert Order.objects.get().status == "completed"
    bought = DID.objects.filter(number__in=[A0, A1])
    assert {(d.owner_id, d.client_package_id) for d in bought} == {
        (customer_admin.account_id, None)
    }
    assert client_package.dids.get().number == A2  # the package still holds only its own


def test_adding_beyond_a_limiting_package_says_what_it_allows(
    shopper, customer_admin, platform_admin
):
    package_with_one_assigned(customer_admin.account, platform_admin, limits_self_service=True)

    response = shopper.post(reverse("cart:add"), {"numbers": [A0, A1]}, **HTMX)

    assert LIMIT_MESSAGE in response.content.decode()
    assert not CartItem.objects.exists()
    assert not DID.objects.filter(cart_held_by=customer_admin).exists()  # nothing held
    # One fits; then the cart counts too.
    shopper.post(reverse("cart:add"), {"numbers": [A0]}, **HTMX)
    response = shopper.post(reverse("cart:add"), {"numbers": [A1]}, follow=True)
    assert (
        "allows 2 numbers: you hold 1 and have 1 in your cart, so you cannot add more."
        in response.content.decode()
    )
    assert CartItem.objects.count() == 1


def test_any_n_and_a_larger_quantity_are_checked_too(
    shopper, customer_admin, platform_admin, blocks
):
    package_with_one_assigned(customer_admin.account, platform_admin, limits_self_service=True)
    response = shopper.post(
        reverse("cart:add"),
        {"block": blocks["munich"].pk, "quantity": "2", "action": "any"},
        **HTMX,
    )
    assert LIMIT_MESSAGE in response.content.decode()
    item = services.cart_add_any(user=customer_admin, block=blocks["munich"], quantity=1).items[0]

    prefix = f"item-{item.pk}"
    response = shopper.post(
        reverse("cart:item_update", args=[item.pk]),
        {
            f"{prefix}-channels": "2",
            f"{prefix}-billing_period": "monthly",
            f"{prefix}-quantity": "3",
        },
    )
    form = response.context["view"].lines[0].form
    assert form.errors["quantity"] == [
        "Your package “Starter” allows 2 numbers: you hold 1 and have 1 in your cart, "
        "so you cannot add more."
    ]
    item.refresh_from_db()
    assert item.quantity == 1


def test_checkout_checks_the_limit_again(shopper, customer_admin, platform_admin):
    client_package = package_with_one_assigned(
        customer_admin.account, platform_admin, limits_self_service=True, max_dids=3
    )
    shopper.post(reverse("cart:add"), {"numbers": [A0, A1]})
    package = client_package.package
    package.max_dids = 2  # lowered by the provider meanwhile
    package.save()

    response = checkout(shopper)

    assert response.status_code == 400
    assert (
        "Your package “Starter” allows 2 numbers: you hold 1, so you can add 1 more. "
        "This order has 2" in response.content.decode()
    )
    assert not Order.objects.exists()
    assert not LedgerEntry.objects.filter(kind="charge").exists()


def test_within_a_limiting_package_bought_numbers_go_under_it(
    shopper, customer_admin, platform_admin
):
    client_package = package_with_one_assigned(
        customer_admin.account, platform_admin, limits_self_service=True
    )
    shopper.post(reverse("cart:add"), {"numbers": [A0]})
    assert checkout(shopper).status_code == 302
    assert DID.objects.get(number=A0).client_package == client_package


def test_an_inactive_limiting_package_pauses_buying(shopper, customer_admin, platform_admin):
    client_package = package_with_one_assigned(
        customer_admin.account, platform_admin, limits_self_service=True
    )
    client_package.active = False
    client_package.save()
    response = shopper.post(reverse("cart:add"), {"numbers": [MUNICH]}, **HTMX)
    assert "Your number package is not active" in response.content.decode()


def test_the_cart_page_says_what_the_package_allows(shopper, customer_admin, platform_admin):
    package_with_one_assigned(customer_admin.account, platform_admin, limits_self_service=True)
    shopper.post(reverse("cart:add"), {"numbers": [A0]})
    page = shopper.get(reverse("cart:cart")).content.decode()
    assert "Your package “Starter” allows 2 numbers; you hold 1." in page
