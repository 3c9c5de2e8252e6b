"""PostgreSQL: concurrent identical PATCHes of a number's channels buy them once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from billing.models import Subscription
from billing.selectors import balance_for, balance_mismatches
from tests.api.conftest import JsonApiClient, key_for
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import held_did, start
from tests.concurrency import run_in_threads
from tests.inventory.factories import NumberBlockFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APRIL = datetime(2026, 4, 1, tzinfo=UTC)


def test_concurrent_capacity_patches_charge_once(customer, customer_admin):
    block = NumberBlockFactory(extra_channel_monthly_price=Decimal("1.50"), channels_included=2)
    with time_machine.travel(APRIL + timedelta(days=20), tick=False):
        fund(customer, "100.00")
        did = held_did(customer, number="+31205550001", block=block)
        rental = start(customer, did=did, channels=2)
        _key, secret = key_for(customer_admin)
        before = balance_for(customer)
        body = {
            "data": {
                "type": "dids",
                "id": str(rental.did_id),
                "attributes": {"capacity_limit": 4},
            }
        }

        def patch(_i):
            return JsonApiClient(secret).patch(f"/v3/dids/{rental.did_id}", body).status_code

        statuses = run_in_threads(patch, count=6)

    assert statuses == [200] * 6, statuses
    assert Subscription.objects.filter(kind="capacity", did=rental.did).count() == 1
    capacity = Subscription.objects.get(kind="capacity", did=rental.did)
    assert capacity.channels == 2
    spent = before - balance_for(customer)
    assert Decimal("0.00") < spent < Decimal("3.58")  # one purchase: 2 × 1.50 pro rata + VAT
    assert list(balance_mismatches()) == []
