"""Shared set-up for subscription tests: a number held by a customer, a started plan."""

import random
import uuid
from datetime import timedelta
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


def walk_renewals(clock, subscriptions, *, until, run, seed=0):
    """Jump the clock from one renewal to the next until ``until``, calling ``run()`` at each
    stop: on time, or up to three days late (a beat that missed runs), seeded. Much faster
    than walking day by day, and the late stops exercise catching up."""
    rng = random.Random(seed)
    while True:
        for subscription in subscriptions:
            subscription.refresh_from_db()
        due = [s.next_renewal_at for s in subscriptions if s.next_renewal_at]
        stop = min(due, default=until) + timedelta(hours=rng.choice((0, 0, 0, 1, 30, 72)))
        clock.move_to(min(stop, until))
        run()
        if stop >= until:
            return
