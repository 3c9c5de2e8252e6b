"""Cart holds bounded by the account's funding (issue 10 #27): an unfunded account holds a
few numbers and holds each again once; a funded one holds up to its cap. Enforced in the
cart services under the account's balance lock, so parallel adds cannot pass the limit."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cart import services
from cart.models import CartItem
from inventory.models import DID
from tests.billing.factories import fund
from tests.concurrency import run_in_threads
from tests.factories import UserFactory

AMSTERDAM = [f"+3120555000{i}" for i in range(10)]


def held_by(account):
    return set(
        DID.objects.filter(cart_held_by__account=account, cart_held_until__gte=timezone.now())
        .order_by("number")
        .values_list("number", flat=True)
    )


@pytest.mark.django_db
def test_an_unfunded_account_holds_three_numbers(blocks, customer_admin):
    result = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:5])

    assert [item.did.number for item in result.items] == AMSTERDAM[:3]
    assert result.unavailable == []
    assert result.limits == [
        f"Not held: {AMSTERDAM[3]}, {AMSTERDAM[4]}. Until your account is topped up it can "
        "hold 3 numbers at a time in carts. Top up your balance to hold more."
    ]
    assert held_by(customer_admin.account) == set(AMSTERDAM[:3])
    assert CartItem.objects.filter(cart__user=customer_admin).count() == 3


@pytest.mark.django_db
def test_the_limit_is_per_account_not_per_user(blocks, customer_admin):
    teammate = UserFactory(account=customer_admin.account, role="customer_admin")
    services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:2])
    result = services.cart_add_numbers(user=teammate, numbers=AMSTERDAM[2:4])
    assert [item.did.number for item in result.items] == [AMSTERDAM[2]]
    assert AMSTERDAM[3] in result.limits[0]


@pytest.mark.django_db
def test_a_number_someone_else_holds_takes_no_room(blocks, customer_admin, stranger):
    services.cart_add_numbers(user=stranger, numbers=AMSTERDAM[:1])
    result = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:4])
    assert [item.did.number for item in result.items] == AMSTERDAM[1:4]
    assert (result.unavailable, result.limits) == ([AMSTERDAM[0]], [])


@pytest.mark.django_db
def test_an_expired_hold_no_longer_counts(blocks, customer_admin):
    past = timezone.now() - timedelta(hours=1)
    services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:3], now=past)
    result = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[3:6])
    assert len(result.items) == 3 and result.limits == []


@pytest.mark.django_db
def test_an_unfunded_account_holds_a_number_again_once(blocks, customer_admin):
    past = timezone.now() - timedelta(minutes=30)
    services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:1], now=past)

    assert services.cart_holds_renew(user=customer_admin) == services.RenewResult()
    assert held_by(customer_admin.account) == {AMSTERDAM[0]}

    later = timezone.now() + timedelta(minutes=30)  # the renewed hold has run out too
    again = services.cart_holds_renew(user=customer_admin, now=later)
    assert again.lost == []
    assert again.limits and again.limits[0].startswith(f"Not held again: {AMSTERDAM[0]}.")
    assert "held again 1 time" in again.limits[0]
    did = DID.objects.get(number=AMSTERDAM[0])
    assert did.cart_held_until < later  # not extended
    # Adding it again is holding it again: refused the same way, not a fresh hold.
    re_add = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:1], now=later)
    assert (re_add.items, re_add.unavailable) == ([], [])
    assert re_add.limits[0].startswith(f"Not held again: {AMSTERDAM[0]}.")


@pytest.mark.django_db
def test_a_funded_account_holds_up_to_its_cap_and_renews_freely(blocks, customer_admin, settings):
    settings.CART_HOLDS_FUNDED = 6
    fund(customer_admin.account, "100.00")
    result = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:8])
    assert len(result.items) == 6
    assert result.limits == [
        f"Not held: {AMSTERDAM[6]}, {AMSTERDAM[7]}. Your account can hold 6 numbers at a "
        "time in carts."
    ]
    for _ in range(3):
        assert services.cart_holds_renew(user=customer_admin) == services.RenewResult()
    assert CartItem.objects.filter(cart__user=customer_admin, hold_renewals=3).count() == 6


@pytest.mark.django_db
def test_a_balance_below_the_purchase_minimum_is_unfunded(blocks, customer_admin):
    fund(customer_admin.account, "10.00")  # MIN_PURCHASE_BALANCE is 50.00
    result = services.cart_add_numbers(user=customer_admin, numbers=AMSTERDAM[:4])
    assert len(result.items) == 3


@pytest.mark.django_db
def test_the_panel_and_the_cart_say_why(client, blocks, customer_admin):
    client.force_login(customer_admin)
    panel = client.post(
        reverse("cart:add"), {"numbers": AMSTERDAM[:4], "next": "/numbers/"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "data-hold-limit" in panel
    assert "can hold 3 numbers at a time" in panel
    assert f'href="{reverse("billing:balance")}">Top up</a>' in panel

    past = timezone.now() - timedelta(hours=1)
    DID.objects.filter(cart_held_by=customer_admin).update(cart_held_until=past)
    first = client.post(reverse("cart:hold_again"), follow=True).content.decode()
    assert "Your numbers are held for you again." in first
    DID.objects.filter(cart_held_by=customer_admin).update(cart_held_until=past)
    page = client.post(reverse("cart:hold_again"), follow=True).content.decode()
    assert "Not held again" in page and "top up your balance to keep holding it" in page
    assert "Your numbers are held for you again." not in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_adds_of_one_account_cannot_pass_the_limit(blocks, customer_admin):
    """Six tabs (three users of one unfunded account) add two different numbers each at
    the same moment: three numbers are held, no more."""
    users = [customer_admin] + [
        UserFactory(account=customer_admin.account, role="customer_admin") for _ in range(2)
    ]

    def add(i):
        numbers = [AMSTERDAM[i], AMSTERDAM[(i + 5) % 10]]
        return services.cart_add_numbers(user=users[i % 3], numbers=numbers)

    results = run_in_threads(add, count=6)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(held_by(customer_admin.account)) == 3
    assert sum(len(r.items) for r in results) == 3
    assert CartItem.objects.filter(cart__account=customer_admin.account).count() == 3
