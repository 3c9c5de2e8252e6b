"""Shared set-up for subscription tests: a number held by a customer, a started plan."""

import uuid
from decimal import Decimal

from billing.services.subscriptions import (
    subscription_start,
)
from inventory.choices import DIDStatus
from inventory.services import did_transition
from tests.inventory.factories import DIDFactory


def held_did(account, **fields):
    did = DIDFactory(**fields)
    return did_transition(
        did=did, to_status=DIDStatus.ACTIVE, owner=account, job="tests", reason="test sale"
    )


def start(account, *, did=None, unit="month", count=1, price="5.00", setup="0.00", **kw):
    did = did or held_did(account)
    return subscription_start(
        account=account,
        did=did,
        billing_type=kw.pop("billing_type", "recurring"),
        period_unit=unit,
        period_count=count,
        recurring_price=Decimal(price),
        setup_fee=Decimal(setup),
        idempotency_key=kw.pop("idempotency_key", f"test:{uuid.uuid4().hex}"),
        job="tests",
        **kw,
    )
