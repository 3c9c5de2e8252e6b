"""Renewals where half the subscriptions belong to resellers' customers, on PostgreSQL.

Each such renewal charges two sides of the period (the customer's sale and the reseller's
wholesale: two ledger debits and two charge rows, checked by the pairing trigger) in the
same batched statements as a direct one. ``renewal_reseller_statements_ratio``: SQL
statements per renewal of the mixed run / of a run of direct customers only (same count of
subscriptions and accounts); the target is at most 1.5. ``renewal_reseller_time_ratio``:
the same ratio of wall-clock time, for information.
"""

import os
import time
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bench.throwaway_db import throwaway_database

SUBSCRIPTIONS = int(os.environ.get("BENCH_RENEWALS_RESOLD", 20_000))
ACCOUNTS = max(2, SUBSCRIPTIONS // 100)
RESELLERS = 10
TARGET = 1.5


def _topup(account, amount):
    from billing.models import LedgerEntry

    return LedgerEntry(
        account=account,
        kind="topup",
        amount=amount,
        balance_after=amount,
        idempotency_key=f"bench:topup:{account.pk}",
        created_by_job="bench",
        method="bank_transfer",
        external_reference=f"bench-{account.pk}",
    )


def _fixture(now, *, resold):
    """``SUBSCRIPTIONS`` due subscriptions over ``ACCOUNTS`` German customers; with
    ``resold``, every other customer belongs to one of ``RESELLERS`` German resellers (with
    a VAT number: the wholesale side is reverse charged) and its subscriptions record the
    reseller and a wholesale price."""
    from accounts.models import Account
    from billing.models import Balance, LedgerEntry, Subscription

    platform = Account.objects.create(kind="platform", name="Bench Carrier", country="NL")
    resellers = Account.objects.bulk_create(
        Account(
            kind="reseller",
            parent=platform,
            name=f"Bench reseller {i}",
            country="DE",
            vat_number="DE136695976",
            signup_code=f"bench-{i}",
        )
        for i in range(RESELLERS if resold else 0)
    )
    accounts = Account.objects.bulk_create(
        Account(
            kind="customer",
            parent=resellers[i % RESELLERS] if resold and i % 2 else platform,
            name=f"Bench {i}",
            country="DE",
        )
        for i in range(ACCOUNTS)
    )
    funds = {a.pk: Decimal("1000.00") for a in accounts}
    funds.update((r.pk, Decimal("100000.00")) for r in resellers)
    everyone = [*resellers, *accounts]
    LedgerEntry.objects.bulk_create(_topup(a, funds[a.pk]) for a in everyone)
    Balance.objects.bulk_create(Balance(account=a, amount=funds[a.pk]) for a in everyone)
    anchor = now - timedelta(days=30)
    end = now - timedelta(minutes=5)

    def subscription(i):
        account = accounts[i % ACCOUNTS]
        reseller = account.parent if account.parent_id != platform.pk else None
        return Subscription(
            account=account,
            kind="capacity",
            description=f"Bench capacity {i}",
            billing_type="recurring",
            period_unit="day",
            period_count=30,
            anchor_at=anchor,
            recurring_price=Decimal("1.50"),
            reseller=reseller,
            wholesale_recurring_price=Decimal("1.20") if reseller else Decimal("0"),
            currency="USD",
            current_period_start=anchor,
            current_period_end=end,
            next_renewal_at=end,
            idempotency_key=f"bench:sub:{i}",
        )

    Subscription.objects.bulk_create(
        (subscription(i) for i in range(SUBSCRIPTIONS)), batch_size=5000
    )


def _run_once(*, resold):
    from billing.models import SubscriptionCharge
    from billing.selectors import balance_mismatches
    from billing.services.renewals import subscriptions_renew_due

    with throwaway_database("renewals_resold_bench"):
        now = timezone.now()
        _fixture(now, resold=resold)
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            counts = subscriptions_renew_due(now=now, job="bench")
        elapsed = time.perf_counter() - started
        charges = dict(
            (side, SubscriptionCharge.objects.filter(side=side).count())
            for side in ("sale", "wholesale")
        )
        mismatches = balance_mismatches().count()
    if counts["renewed"] != SUBSCRIPTIONS or mismatches:
        raise AssertionError(f"renewal bench went wrong: {counts}, {mismatches} mismatches")
    wholesale = SUBSCRIPTIONS // 2 if resold else 0
    if charges != {"sale": SUBSCRIPTIONS, "wholesale": wholesale}:
        raise AssertionError(f"renewal bench charged {charges}")
    return queries / SUBSCRIPTIONS, elapsed


def run():
    if connection.vendor != "postgresql":
        return {}
    direct, direct_time = _run_once(resold=False)
    mixed, mixed_time = _run_once(resold=True)
    ratio = mixed / direct
    return {
        "renewal_reseller_statements_ratio": {
            "value": round(ratio, 3),
            "unit": f"× (target ≤ {TARGET})",
            "detail": f"{SUBSCRIPTIONS:,} renewals over {ACCOUNTS:,} accounts: "
            f"{mixed:.4f} SQL statements per renewal with half of them resellers' customers "
            f"(sale + wholesale charged together) vs {direct:.4f} all direct",
        },
        "renewal_reseller_time_ratio": {
            "value": round(mixed_time / direct_time, 3),
            "unit": "×",
            "detail": f"mixed run {mixed_time:.1f}s vs direct run {direct_time:.1f}s",
        },
    }
