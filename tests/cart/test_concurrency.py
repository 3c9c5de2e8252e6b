"""Cart holds under real PostgreSQL concurrency: one holder per number, no deadlocks."""

import pytest

from cart import services
from cart.models import CartItem
from catalog.selectors import buyable_blocks
from inventory import services as inventory_services
from inventory.models import DID
from tests.billing.factories import fund
from tests.concurrency import THREADS, run_in_threads
from tests.factories import UserFactory
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stocked(platform_admin):
    block = NumberBlockFactory()
    inventory_services.dids_add(block=block, spec_text="5550000-5550009", actor=platform_admin)
    return block


def test_twenty_buyers_add_the_same_number_one_holds_it(stocked):
    buyers = [UserFactory(role="customer_admin") for _ in range(THREADS)]
    number = "+31205550000"

    results = run_in_threads(lambda i: services.cart_add_numbers(user=buyers[i], numbers=[number]))

    assert not [r for r in results if isinstance(r, Exception)], results
    winners = [i for i, r in enumerate(results) if r.items]
    assert len(winners) == 1
    assert all(r.unavailable == [number] for i, r in enumerate(results) if i not in winners)
    assert DID.objects.get(number=number).cart_held_by == buyers[winners[0]]
    assert CartItem.objects.filter(did__number=number).count() == 1
    available = buyable_blocks().get(pk=stocked.pk).available
    assert available == 9


def test_carts_claiming_numbers_in_opposite_orders_do_not_deadlock(stocked):
    buyers = [UserFactory(role="customer_admin") for _ in range(THREADS)]
    for buyer in buyers:  # funded: an unfunded account holds 3 numbers at most
        fund(buyer.account, "100.00")
    numbers = [f"+3120555000{i}" for i in range(10)]

    def add(i):
        ordered = numbers if i % 2 else list(reversed(numbers))
        return services.cart_add_numbers(user=buyers[i], numbers=ordered)

    results = run_in_threads(add)

    assert not [r for r in results if isinstance(r, Exception)], results
    held = DID.objects.filter(cart_held_by__isnull=False)
    assert held.count() == 10
    # Every number is in exactly one cart, the cart of its holder.
    for did in held:
        assert list(CartItem.objects.filter(did=did).values_list("cart__user", flat=True)) == [
            did.cart_held_by_id
        ]
    assert sum(len(r.items) for r in results) == 10


def test_any_n_additions_and_holds_race_without_errors(stocked):
    buyers = [UserFactory(role="customer_admin") for _ in range(THREADS)]

    def work(i):
        if i % 2:
            return services.cart_add_numbers(user=buyers[i], numbers=[f"+3120555000{i % 10}"])
        return services.cart_add_any(user=buyers[i], block=stocked, quantity=1)

    results = run_in_threads(work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert DID.objects.filter(cart_held_by__isnull=False).count() == 5
