"""Closing the add-to-cart panel takes what it just added out of the cart again."""

import pytest
from django.urls import reverse

from cart import services
from cart.models import CartItem
from inventory.models import DID

pytestmark = pytest.mark.django_db


def test_drop_removes_the_panels_lines_and_ends_their_holds(client, customer_admin, blocks):
    kept = services.cart_add_numbers(user=customer_admin, numbers=["+4989555001"]).items
    added = services.cart_add_numbers(user=customer_admin, numbers=["+4989555000"]).items
    client.force_login(customer_admin)
    ids = ",".join(str(item.pk) for item in added)
    response = client.post(
        reverse("cart:drop"),
        {"return": "panel", "items": ids, "back": "/numbers/DE/"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert (
        'id="cart-badge"' in response.content.decode()
        and "hx-swap-oob" in response.content.decode()
    )
    assert list(CartItem.objects.filter(cart__user=customer_admin)) == kept
    did = DID.objects.get(number="+4989555000")
    assert (did.cart_held_by, did.cart_held_until) == (None, None)


def test_drop_without_javascript_goes_back_and_ignores_other_carts(
    client, customer_admin, stranger, blocks
):
    theirs = services.cart_add_numbers(user=stranger, numbers=["+4989555002"]).items
    client.force_login(customer_admin)
    response = client.post(
        reverse("cart:drop"),
        {"return": "panel", "items": str(theirs[0].pk), "back": "/numbers/DE/"},
    )
    assert response.status_code == 302 and response.url == "/numbers/DE/"
    assert CartItem.objects.filter(pk=theirs[0].pk).exists()
