"""The checkout page, its form, the confirmation and the order pages."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cart import services as cart_services
from cart.models_orders import Order
from cart.orders import order_place
from compliance.services import requirement_save
from inventory.models import DID
from outbox.models import OutgoingEmail
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db

MUNICH_1 = "+4989555000"


@pytest.fixture
def shopper(client, customer_admin, blocks):
    fund(customer_admin.account, "100.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1], channels=3)
    client.force_login(customer_admin)
    return customer_admin


def test_checkout_shows_items_vat_total_and_a_token(client, shopper):
    response = client.get(reverse("cart:checkout"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "+49 89 555000" in html
    assert 'id="checkout-vat">1.81<' in html
    assert 'id="checkout-total">11.31 USD<' in html
    token = response.context["token"]
    assert len(token) >= 24 and f'value="{token}"' in html
    assert client.get(reverse("cart:checkout")).context["token"] == token  # kept per session


def test_complete_order_redirects_to_the_confirmation(client, shopper):
    token = client.get(reverse("cart:checkout")).context["token"]
    response = client.post(reverse("cart:checkout"), {"token": token})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("cart:order_complete", args=[order.pk])
    page = client.get(response.url).content.decode()
    assert "Your order is complete" in page and "11.31" in page and "Completed" in page
    # A second click with the same form goes to the same order, nothing more is charged.
    again = client.post(reverse("cart:checkout"), {"token": token})
    assert again.url == response.url
    assert Order.objects.count() == 1
    assert OutgoingEmail.objects.filter(key=f"order-confirmation:{order.pk}").count() == 1
    assert client.get(reverse("cart:orders")).content.decode().count(order.reference) == 1


def test_low_balance_is_refused_with_figures_and_a_top_up_link(client, customer_admin, blocks):
    fund(customer_admin.account, "30.00")
    cart_services.cart_add_numbers(user=customer_admin, numbers=[MUNICH_1])
    client.force_login(customer_admin)
    page = client.get(reverse("cart:checkout"))
    html = page.content.decode()
    assert 'id="checkout-refusal"' in html and reverse("billing:balance") in html
    assert "20.00" in html  # shortfall to the 50.00 minimum
    assert 'id="complete-order" disabled' in html
    response = client.post(reverse("cart:checkout"), {"token": page.context["token"]})
    assert response.status_code == 200 and 'id="checkout-refusal"' in response.content.decode()
    assert not Order.objects.exists()


def test_requirement_must_be_ticked(client, shopper, blocks, platform_admin):
    requirement = requirement_save(
        actor=platform_admin, country="DE", number_type="local", title="Local address", text="..."
    )
    blocks["munich"].requirement = requirement
    blocks["munich"].save()
    page = client.get(reverse("cart:checkout"))
    assert f'name="agree_{requirement.pk}"' in page.content.decode()
    token = page.context["token"]
    refused = client.post(reverse("cart:checkout"), {"token": token})
    assert refused.status_code == 400 and "Local address" in refused.content.decode()
    assert not Order.objects.exists()
    done = client.post(
        reverse("cart:checkout"),
        {"token": token, f"agree_{requirement.pk}": str(requirement.version)},
    )
    assert done.status_code == 302 and Order.objects.get().status == "completed"


def test_transaction_code_flow(client, shopper, settings):
    settings.CHECKOUT_CODE_REQUIRED = True
    page = client.get(reverse("cart:checkout"))
    assert 'name="code"' in page.content.decode()
    client.post(reverse("cart:checkout_code"))
    mail = OutgoingEmail.objects.filter(to=[shopper.email]).latest("pk")
    code = next(w for w in mail.text.split() if w.isdigit() and len(w) == 6)
    token = page.context["token"]
    wrong = client.post(reverse("cart:checkout"), {"token": token, "code": "12345x"})
    assert wrong.status_code == 400
    done = client.post(reverse("cart:checkout"), {"token": token, "code": code})
    assert done.status_code == 302
    assert DID.objects.get(number=MUNICH_1).owner == shopper.account


def test_empty_cart_goes_back_to_the_cart(client, customer_admin):
    client.force_login(customer_admin)
    assert client.get(reverse("cart:checkout")).url == reverse("cart:cart")


def test_orders_admin_lists_all_orders_for_platform_staff(client, shopper, platform_admin):
    token = client.get(reverse("cart:checkout")).context["token"]
    client.post(reverse("cart:checkout"), {"token": token})
    order = Order.objects.get()
    client.force_login(platform_admin)
    page = client.get(reverse("cart:orders_admin"), {"q": shopper.account.name})
    assert order.reference in page.content.decode()
    assert client.get(reverse("cart:order", args=[order.pk])).status_code == 200
    assert (
        client.get(reverse("cart:orders_admin"), {"status": "failed"})
        .context["page"]
        .paginator.count
        == 0
    )
    client.force_login(shopper)
    assert client.get(reverse("cart:orders_admin")).status_code == 403


def test_order_list_query_count_is_flat(client, shopper, django_assert_max_num_queries):
    for n in range(3):
        fund(shopper.account, "20.00")
        cart_services.cart_add_any(user=shopper, block=DID.objects.first().block, quantity=1)
        order_place(user=shopper, token=f"t{n}")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("cart:orders"))
    assert len(response.context["page"].object_list) >= 3
    assert Decimal(0) < Order.objects.first().gross


def test_agreement_fields_with_non_ascii_digits_are_ignored_not_a_500(client, shopper):
    """ "²".isdigit() is true but int("²") fails: such a box is not an agreement."""
    token = client.get(reverse("cart:checkout")).context["token"]
    response = client.post(
        reverse("cart:checkout"), {"token": token, "agree_²": "1", "agree_1": "²"}
    )
    assert response.status_code == 302 and Order.objects.count() == 1
