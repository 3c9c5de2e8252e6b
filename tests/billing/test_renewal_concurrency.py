"""Overlapping renewal runs against real PostgreSQL locks: one charge per period."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count

from billing.models import LedgerEntry, SubscriptionCharge
from billing.selectors import balance_mismatches
from billing.services.renewals import (
    subscriptions_renew_due,
)
from tests.billing.factories import fund
from tests.billing.test_subscriptions_helpers import start
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_three_concurrent_runs_charge_each_period_once():
    accounts = [AccountFactory() for _ in range(6)]
    subs = []
    for account in accounts:
        fund(account, "100.00")
        subs += [start(account, unit="day", price="1.00") for _ in range(10)]
    later = max(s.next_renewal_at for s in subs) + timedelta(days=2, hours=1)

    results = run_in_threads(lambda i: subscriptions_renew_due(now=later, batch_size=7), count=3)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["renewed"] for r in results) == len(subs)
    assert sum(r["failed"] for r in results) == 0
    per_sub = SubscriptionCharge.objects.values("subscription").annotate(n=Count("pk"))
    assert {row["n"] for row in per_sub} == {4}  # periods 0..3, each once
    assert LedgerEntry.objects.filter(kind="charge").count() == 4 * len(subs)
    assert list(balance_mismatches()) == []
    assert subscriptions_renew_due(now=later) == {
        "renewed": 0,
        "hold": 0,
        "ended": 0,
        "skipped": 0,
        "failed": 0,
    }


def test_concurrent_runs_with_a_short_balance_hold_the_rest():
    account = AccountFactory(country="US")  # no VAT: each period costs exactly 1.00
    fund(account, "25.00")
    subs = [start(account, unit="day", price="1.00") for _ in range(20)]
    later = max(s.next_renewal_at for s in subs)

    results = run_in_threads(lambda i: subscriptions_renew_due(now=later, batch_size=3), count=3)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["renewed"] for r in results) == 5
    assert sum(r["hold"] for r in results) == 15
    account.balance.refresh_from_db()
    assert account.balance.amount == Decimal("0.00")
    assert list(balance_mismatches()) == []
