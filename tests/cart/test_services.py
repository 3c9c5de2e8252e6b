"""Cart services: holds, refreshes, "any N" stock checks, validation, clearing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from cart import services
from cart.models import Cart, CartItem
from inventory import services as inventory_services
from inventory.models import DID
from tests.factories import UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = pytest.mark.django_db

A0, A1, A2 = "+31205550000", "+31205550001", "+31205550002"


@pytest.fixture
def bob(customer_admin):
    """A customer of another account."""
    return UserFactory(role="customer_admin")


def numbers_in_cart(user):
    return sorted(CartItem.objects.filter(cart__user=user).values_list("did__number", flat=True))


def test_adding_numbers_holds_them_with_block_defaults(blocks, customer_admin):
    result = services.cart_add_numbers(user=customer_admin, numbers=[A0, A1])
    assert [item.did.number for item in result.items] == [A0, A1]
    assert result.unavailable == []
    item = result.items[0]
    assert (item.channels, item.billing_period, item.quantity) == (2, "monthly", 1)
    assert item.cart.account == customer_admin.account
    did = DID.objects.get(number=A0)
    assert did.cart_held_by == customer_admin
    expected = timezone.now() + timedelta(minutes=15)
    assert abs(did.cart_held_until - expected) < timedelta(seconds=30)


@override_settings(CART_HOLD_MINUTES=5)
def test_the_hold_lasts_cart_hold_minutes(blocks, customer_admin):
    services.cart_add_numbers(user=customer_admin, numbers=[A0])
    did = DID.objects.get(number=A0)
    assert did.cart_held_until - timezone.now() < timedelta(minutes=5, seconds=1)


def test_a_number_in_another_cart_is_reported_not_added(blocks, customer_admin, bob):
    services.cart_add_numbers(user=bob, numbers=[A0])
    result = services.cart_add_numbers(user=customer_admin, numbers=[A0, A1, "+31209999999"])
    assert [item.did.number for item in result.items] == [A1]
    assert result.unavailable == [A0, "+31209999999"]
    assert numbers_in_cart(customer_admin) == [A1]
    assert DID.objects.get(number=A0).cart_held_by == bob


def test_adding_a_number_twice_refreshes_the_hold_only(blocks, customer_admin):
    past = timezone.now() - timedelta(minutes=10)
    services.cart_add_numbers(user=customer_admin, numbers=[A0], now=past)
    first_until = DID.objects.get(number=A0).cart_held_until
    result = services.cart_add_numbers(user=customer_admin, numbers=[A0])
    assert CartItem.objects.filter(did__number=A0).count() == 1
    assert result.items[0].did.number == A0
    assert DID.objects.get(number=A0).cart_held_until > first_until


def test_an_expired_hold_is_claimable_by_another_and_the_first_cart_sees_it_gone(
    blocks, customer_admin, bob
):
    past = timezone.now() - timedelta(minutes=30)
    services.cart_add_numbers(user=customer_admin, numbers=[A0], now=past)
    result = services.cart_add_numbers(user=bob, numbers=[A0])
    assert [item.did.number for item in result.items] == [A0]
    item = CartItem.objects.select_related("did", "cart").get(cart__user=customer_admin)
    assert item.hold_state() == "gone"
    assert services.cart_holds_renew(user=customer_admin).lost == [A0]
    retry = services.cart_add_numbers(user=customer_admin, numbers=[A0])
    assert retry.unavailable == [A0]


def test_hold_again_re_holds_expired_numbers(blocks, customer_admin):
    past = timezone.now() - timedelta(minutes=30)
    services.cart_add_numbers(user=customer_admin, numbers=[A0, A1], now=past)
    item = CartItem.objects.select_related("did", "cart").filter(cart__user=customer_admin).first()
    assert item.hold_state() == "expired"
    assert services.cart_holds_renew(user=customer_admin) == services.RenewResult()
    item.did.refresh_from_db()
    assert item.hold_state() == "held"


def test_clearing_releases_every_hold(blocks, customer_admin):
    services.cart_add_numbers(user=customer_admin, numbers=[A0, A1])
    services.cart_add_any(user=customer_admin, block=blocks["munich"], quantity=2)
    assert services.cart_clear(user=customer_admin) == 3
    assert not CartItem.objects.exists()
    assert not DID.objects.filter(cart_held_by__isnull=False).exists()
    assert Cart.objects.filter(user=customer_admin).exists()  # the cart stays, empty


def test_removing_a_line_releases_its_number(blocks, customer_admin):
    result = services.cart_add_numbers(user=customer_admin, numbers=[A0, A1])
    services.cart_item_remove(user=customer_admin, item_id=result.items[0].pk)
    assert numbers_in_cart(customer_admin) == [A1]
    assert DID.objects.get(number=A0).cart_held_by is None
    assert DID.objects.get(number=A1).cart_held_by == customer_admin


def test_another_users_line_cannot_be_changed_or_removed(blocks, customer_admin, bob):
    item = services.cart_add_numbers(user=bob, numbers=[A0]).items[0]
    with pytest.raises(CartItem.DoesNotExist):
        services.cart_item_remove(user=customer_admin, item_id=item.pk)
    with pytest.raises(CartItem.DoesNotExist):
        services.cart_item_update(user=customer_admin, item_id=item.pk, channels=5)
    assert CartItem.objects.get(pk=item.pk).channels == 2


def test_any_n_checks_the_stock_now(blocks, customer_admin, bob):
    munich = blocks["munich"]  # 5 numbers
    services.cart_add_numbers(user=bob, numbers=["+4989555000"])  # 4 free now
    with pytest.raises(ValidationError) as error:
        services.cart_add_any(user=customer_admin, block=munich, quantity=5)
    assert error.value.message_dict == {
        "quantity": ["Only 4 numbers available in München right now."]
    }
    result = services.cart_add_any(user=customer_admin, block=munich, quantity=3)
    assert result.available == 4
    assert not DID.objects.filter(cart_held_by=customer_admin).exists()  # nothing held


def test_any_n_twice_raises_the_quantity_of_one_line(blocks, customer_admin):
    munich = blocks["munich"]
    services.cart_add_any(user=customer_admin, block=munich, quantity=2)
    services.cart_add_any(user=customer_admin, block=munich, quantity=2)
    assert CartItem.objects.get(cart__user=customer_admin).quantity == 4
    with pytest.raises(ValidationError) as error:
        services.cart_add_any(user=customer_admin, block=munich, quantity=2)
    assert "you have 4 in your cart" in error.value.message_dict["quantity"][0]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"channels": 0}, {"channels": ["Channels must be between 1 and 1000."]}),
        ({"channels": 1001}, {"channels": ["Channels must be between 1 and 1000."]}),
        ({"channels": "many"}, {"channels": ["Channels must be a whole number."]}),
        (
            {"billing_period": "daily"},
            {"billing_period": ["This number is not offered daily; choose monthly, weekly."]},
        ),
        ({"quantity": 2}, {"quantity": ["A specific number is bought once: quantity is 1."]}),
        (
            {"channels": 0, "billing_period": "yearly"},
            {
                "channels": ["Channels must be between 1 and 1000."],
                "billing_period": ["This number is not offered yearly; choose monthly, weekly."],
            },
        ),
    ],
)
def test_update_names_each_bad_field_and_saves_nothing(blocks, customer_admin, changes, errors):
    item = services.cart_add_numbers(user=customer_admin, numbers=["+4989555000"]).items[0]
    with pytest.raises(ValidationError) as error:
        services.cart_item_update(
            user=customer_admin, item_id=item.pk, **{"channels": 4, **changes}
        )
    assert error.value.message_dict == errors
    item.refresh_from_db()
    assert (item.channels, item.billing_period, item.quantity) == (2, "monthly", 1)


def test_update_changes_channels_period_and_any_quantity(blocks, customer_admin):
    number = services.cart_add_numbers(user=customer_admin, numbers=["+4989555000"]).items[0]
    services.cart_item_update(
        user=customer_admin, item_id=number.pk, channels=4, billing_period="weekly"
    )
    number.refresh_from_db()
    assert (number.channels, number.billing_period) == (4, "weekly")

    any_line = services.cart_add_any(user=customer_admin, block=blocks["amsterdam"], quantity=1)
    item = any_line.items[0]
    services.cart_item_update(user=customer_admin, item_id=item.pk, quantity=10)
    item.refresh_from_db()
    assert item.quantity == 10
    with pytest.raises(ValidationError) as error:
        services.cart_item_update(user=customer_admin, item_id=item.pk, quantity=11)
    assert error.value.message_dict == {
        "quantity": ["Only 10 numbers available in Amsterdam right now."]
    }


def test_a_one_time_block_is_rented_one_time(db, customer_admin, platform_admin):
    block = NumberBlockFactory(billing_type="one_time", monthly_price=None)
    inventory_services.dids_add(block=block, spec_text="5560000", actor=platform_admin)
    item = services.cart_add_numbers(user=customer_admin, numbers=["+31205560000"]).items[0]
    assert item.billing_period == "one_time"


def test_only_customers_and_resellers_have_carts(blocks, platform_admin, reseller):
    support = UserFactory(account=reseller, role="reseller_support")
    for user in (platform_admin, support):
        with pytest.raises(PermissionDenied):
            services.cart_add_numbers(user=user, numbers=[A0])
    assert not DID.objects.filter(cart_held_by__isnull=False).exists()


def test_nothing_ticked_is_a_field_error(blocks, customer_admin):
    with pytest.raises(ValidationError) as error:
        services.cart_add_numbers(user=customer_admin, numbers=["", "  "])
    assert error.value.message_dict == {"numbers": ["Tick the numbers you want first."]}
