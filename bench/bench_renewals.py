"""Renewals: 100,000 due subscriptions on PostgreSQL, one run, then a second run.

``renewals_per_s``: subscriptions renewed per second by ``subscriptions_renew_due`` (each a
ledger debit, a SubscriptionCharge and the subscription's new period, in batches claimed
with ``select_for_update(skip_locked)`` and renewed together); its detail gives the SQL
statements per renewal. ``renewal_second_run_charges``: charges written by an immediate
second run, which must be 0.
"""

import os
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bench.throwaway_db import throwaway_database

SUBSCRIPTIONS = int(os.environ.get("BENCH_RENEWALS", 100_000))
ACCOUNTS = max(1, SUBSCRIPTIONS // 100)


def _fixture(now):
    from accounts.models import Account
    from billing.models import Balance, LedgerEntry, Subscription

    platform = Account.objects.create(kind="platform", name="Bench Carrier", country="NL")
    accounts = Account.objects.bulk_create(
        Account(kind="customer", parent=platform, name=f"Bench {i}", country="DE")
        for i in range(ACCOUNTS)
    )
    funds = Decimal("1000.00")
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            account=a,
            kind="topup",
            amount=funds,
            balance_after=funds,
            idempotency_key=f"bench:topup:{a.pk}",
            created_by_job="bench",
            method="bank_transfer",
            external_reference=f"bench-{a.pk}",
        )
        for a in accounts
    )
    Balance.objects.bulk_create(Balance(account=a, amount=funds) for a in accounts)
    anchor = now - timedelta(days=30)
    end = now - timedelta(minutes=5)
    Subscription.objects.bulk_create(
        (
            Subscription(
                account=accounts[i % ACCOUNTS],
                kind="capacity",
                description=f"Bench capacity {i}",
                billing_type="recurring",
                period_unit="day",
                period_count=30,
                anchor_at=anchor,
                recurring_price=Decimal("1.50"),
                currency="USD",
                current_period_start=anchor,
                current_period_end=end,
                next_renewal_at=end,
                idempotency_key=f"bench:sub:{i}",
            )
            for i in range(SUBSCRIPTIONS)
        ),
        batch_size=5000,
    )


def run():
    if connection.vendor != "postgresql":
        return {}
    from billing.models import SubscriptionCharge
    from billing.selectors import balance_mismatches
    from billing.services.renewals import (
        subscriptions_renew_due,
    )

    with throwaway_database("renewals_bench"):
        now = timezone.now()
        _fixture(now)
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            counts = subscriptions_renew_due(now=now, job="bench")
        elapsed = time.perf_counter() - started
        charges = SubscriptionCharge.objects.count()
        second = subscriptions_renew_due(now=now, job="bench")
        second_charges = SubscriptionCharge.objects.count() - charges
        mismatches = balance_mismatches().count()
    if counts["renewed"] != SUBSCRIPTIONS or mismatches:
        raise AssertionError(f"renewal bench went wrong: {counts}, {mismatches} mismatches")
    return {
        "renewals_per_s": {
            "value": round(SUBSCRIPTIONS / elapsed, 1),
            "unit": "subscriptions/s",
            "detail": f"{SUBSCRIPTIONS:,} due subscriptions over {ACCOUNTS:,} accounts renewed "
            f"in {elapsed:.1f}s by one run (batches of 500, one debit + charge row each; "
            f"{queries:,} SQL statements, {queries / SUBSCRIPTIONS:.3f} per renewal)",
        },
        "renewal_second_run_charges": {
            "value": second_charges,
            "unit": "charges",
            "detail": f"an immediate second run: {second}",
        },
    }
