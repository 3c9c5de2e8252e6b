"""A number leaves its owner through one release that ends its subscriptions in the same
transaction (issue 10, item 1): whatever path frees it, the next buyer can buy it at once."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import balance_for
from billing.services.renewals import subscriptions_renew_due
from billing.services.subscriptions import (
    subscription_cancel,
    subscription_start,
    subscriptions_end_due,
)
from cart import services as cart_services
from cart.orders import order_place
from inventory.choices import DIDStatus
from inventory.models import DID
from inventory.services import dids_add, holds_release_expired
from tests.billing.factories import fund, spend
from tests.factories import AccountFactory, UserFactory, platform
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Subscription.Status
NUMBER = "+31205550000"


@pytest.fixture
def number(db, platform_admin):
    block = NumberBlockFactory(monthly_price=Decimal("3.00"), setup_fee=Decimal("0.00"))
    dids_add(block=block, spec_text=NUMBER, actor=platform_admin)
    return DID.objects.get(number=NUMBER)


@pytest.fixture
def first(customer_admin):
    fund(customer_admin.account, "100.00")
    return customer_admin


@pytest.fixture
def second(db):
    account = AccountFactory(kind="customer", parent=platform(), name="Next Buyer BV")
    user = UserFactory(account=account, role="customer_admin")
    fund(account, "100.00")
    return user


def buy(user, number):
    cart_services.cart_add_numbers(user=user, numbers=[number.number])
    return order_place(user=user, token=uuid.uuid4().hex)


def rent(user, number):
    order = buy(user, number)
    assert order.status == "completed"
    return order.items.get().subscription


def capacity_on(subscription):
    """Extra capacity on the number, aligned with its subscription."""
    return subscription_start(
        account=subscription.account,
        did=subscription.did,
        kind=Subscription.Kind.CAPACITY,
        billing_type="recurring",
        period_unit="month",
        recurring_price=Decimal("1.00"),
        channels=1,
        idempotency_key=f"test:{uuid.uuid4().hex}",
        job="tests",
    )


def assert_next_buyer_gets_it(second, number):
    order = buy(second, number)
    assert order.status == "completed", order.items.get().failure_reason
    number.refresh_from_db()
    assert (number.owner, number.status) == (second.account, DIDStatus.ACTIVE)


def test_hold_expiry_ends_the_held_subscription_and_the_next_buyer_gets_the_number(
    first, second, number, settings
):
    settings.DID_HOLD_DAYS = 30
    sub = rent(first, number)
    spend(first.account, balance_for(first.account))
    subscriptions_renew_due(now=sub.next_renewal_at)  # unpaid: the number goes on hold
    sub.refresh_from_db()
    assert sub.status == S.HOLD

    assert holds_release_expired(now=timezone.now() + timedelta(days=31)) == 1

    sub.refresh_from_db()
    assert sub.status == S.ENDED
    assert "hold expired" in sub.end_reason
    assert_next_buyer_gets_it(second, number)


def test_console_release_ends_the_number_and_its_capacity(
    client, platform_admin, first, second, number
):
    sub = rent(first, number)
    capacity = capacity_on(sub)
    client.force_login(platform_admin)
    response = client.post(
        reverse("inventory:did_change_status", args=[number.pk]),
        {"to_status": "in_stock", "reason": "customer left"},
    )
    assert response.status_code == 302
    for subscription in (sub, capacity):
        subscription.refresh_from_db()
        assert subscription.status == S.ENDED
        assert "customer left" in subscription.end_reason
    assert_next_buyer_gets_it(second, number)


def test_bulk_status_release_ends_subscriptions(client, platform_admin, first, second, number):
    sub = rent(first, number)
    client.force_login(platform_admin)
    response = client.post(
        reverse("inventory:did_bulk"),
        {
            "action": "status",
            "ids": [number.pk],
            "to_status": "in_stock",
            "reason": "port-out",
            "confirm": "1",
        },
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert (sub.status, "port-out" in sub.end_reason) == (S.ENDED, True)
    assert_next_buyer_gets_it(second, number)


def test_cancel_at_period_end_releases_the_number_and_ends_its_live_capacity(first, second, number):
    sub = rent(first, number)
    capacity = capacity_on(sub)
    subscription_cancel(subscription=sub, actor=first)  # the number only

    assert subscriptions_end_due(now=sub.current_period_end) == 1

    sub.refresh_from_db()
    capacity.refresh_from_db()
    assert (sub.status, capacity.status) == (S.ENDED, S.ENDED)
    assert "paid period over" in sub.end_reason and "paid period over" in capacity.end_reason
    assert subscriptions_end_due(now=sub.current_period_end) == 0
    assert_next_buyer_gets_it(second, number)


def test_cancelling_a_held_number_ends_its_capacity_at_once(first, second, number):
    sub = rent(first, number)
    capacity = capacity_on(sub)
    spend(first.account, balance_for(first.account))
    subscriptions_renew_due(now=sub.next_renewal_at)
    sub.refresh_from_db()
    assert sub.status == S.HOLD

    subscription_cancel(subscription=sub, actor=first)

    capacity.refresh_from_db()
    assert capacity.status == S.ENDED
    assert_next_buyer_gets_it(second, number)
