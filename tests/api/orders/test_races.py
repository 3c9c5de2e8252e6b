"""Concurrency through the whole stack: real HTTP requests in parallel threads against a
live server on PostgreSQL (each request its own connection and transaction)."""

from decimal import Decimal

import pytest
import requests

from api.models import DidReservation
from billing.selectors import balance_for, balance_mismatches
from cart.models_orders import Order, OrderItem
from inventory.models import DID
from tests.api.conftest import fund, key_for
from tests.api.orders.conftest import (
    numbers_of,
    order_body,
    reservation_body,
    sku_of,
    stocked_block,
)
from tests.concurrency import run_in_threads
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADERS = {"Accept": "application/vnd.api+json", "Content-Type": "application/vnd.api+json"}


def buyers(count):
    users = [UserFactory(role="customer_admin") for _ in range(count)]
    for user in users:
        fund(user.account, "100.00")
    return users, [key_for(user)[1] for user in users]


def post(live_server, secret, path, body):
    response = requests.post(
        f"{live_server.url}/v3/{path}",
        json=body,
        headers={**HEADERS, "Api-Key": secret},
        timeout=60,
    )
    return response.status_code, response.json()


def test_two_accounts_order_the_same_number_one_wins_one_is_charged(live_server, platform_admin):
    block = stocked_block(platform_admin)
    did = numbers_of(block)[0]
    users, secrets = buyers(2)
    body = order_body({"available_did_id": str(did.pk)})

    results = run_in_threads(lambda i: post(live_server, secrets[i], "orders", body), count=2)

    assert [status for status, _ in results] == [201, 201], results
    statuses = sorted(data["data"]["attributes"]["status"] for _, data in results)
    assert statuses == ["canceled", "completed"]
    did.refresh_from_db()
    winner = next(u for u in users if u.account_id == did.owner_id)
    loser = next(u for u in users if u is not winner)
    won = Order.objects.get(account=winner.account)
    assert balance_for(winner.account) == Decimal("100.00") - won.gross
    assert balance_for(loser.account) == Decimal("100.00")
    assert OrderItem.objects.filter(did=did, status="completed").count() == 1
    assert Order.objects.get(account=loser.account).status == "failed"
    assert not balance_mismatches()


def test_ten_accounts_race_for_three_numbers_by_sku(live_server, platform_admin):
    block = stocked_block(platform_admin, count=3)
    users, secrets = buyers(10)
    body = order_body({"sku_id": sku_of(block), "qty": 1})

    results = run_in_threads(lambda i: post(live_server, secrets[i], "orders", body), count=10)

    assert {status for status, _ in results} == {201}, results
    statuses = [data["data"]["attributes"]["status"] for _, data in results]
    assert statuses.count("completed") == 3 and statuses.count("canceled") == 7
    assert DID.objects.filter(block=block, status="active").values("owner").distinct().count() == 3
    charged = [u for u in users if balance_for(u.account) < Decimal("100.00")]
    assert len(charged) == 3
    assert not balance_mismatches()


def test_concurrent_retries_with_one_external_reference_make_one_order(live_server, platform_admin):
    block = stocked_block(platform_admin)
    user = UserFactory(role="customer_admin")
    fund(user.account, "100.00")
    secrets = [key_for(user)[1] for _ in range(2)]  # two keys of one account: one reference
    body = order_body({"sku_id": sku_of(block), "qty": 2}, external_reference_id="twin-1")

    results = run_in_threads(lambda i: post(live_server, secrets[i % 2], "orders", body), count=6)

    assert sorted(status for status, _ in results) == [200] * 5 + [201], results
    assert len({data["data"]["id"] for _, data in results}) == 1
    order = Order.objects.get(account=user.account)
    assert order.external_reference_id == "twin-1" and order.status == "completed"
    assert DID.objects.filter(owner=user.account).count() == 2
    assert balance_for(user.account) == Decimal("100.00") - order.gross
    assert not balance_mismatches()


def test_two_accounts_reserve_the_same_number_one_reservation(live_server, platform_admin):
    block = stocked_block(platform_admin)
    did = numbers_of(block)[0]
    users, secrets = buyers(2)
    body = reservation_body(did)

    results = run_in_threads(
        lambda i: post(live_server, secrets[i], "did_reservations", body), count=2
    )

    assert sorted(status for status, _ in results) == [201, 422], results
    reservation = DidReservation.objects.get(ended_at__isnull=True)
    did.refresh_from_db()
    assert did.cart_held_by.account_id == reservation.account_id
