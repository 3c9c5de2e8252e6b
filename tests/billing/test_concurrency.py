"""Races and random sequences against real PostgreSQL locks and commits."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import LedgerEntry
from billing.selectors import balance_for, balance_mismatches
from billing.services import (
    InsufficientBalance,
    TopupDuplicate,
    adjustment_record,
    refund_record,
    topup_record,
)
from tests.billing.factories import TEST_JOB, fund, new_key, spend
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def ledger_sum(account):
    return LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]


def test_concurrent_charges_never_overdraw():
    account = AccountFactory()
    fund(account, "100.00")

    results = run_in_threads(lambda i: spend(account, "10.00"))

    charged = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert (len(charged), len(refused)) == (10, 10)
    assert balance_for(account) == Decimal("0.00")
    assert ledger_sum(account) == Decimal("0.00")
    assert sorted(e.balance_after for e in charged) == [Decimal(10 * n) for n in range(10)]
    assert not LedgerEntry.objects.filter(balance_after__lt=0).exists()
    assert list(balance_mismatches()) == []


def test_concurrent_posts_with_one_key_write_one_entry():
    account = AccountFactory()
    fund(account, "100.00")

    results = run_in_threads(lambda i: spend(account, "10.00", key="order:race"))

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert LedgerEntry.objects.filter(idempotency_key="order:race").count() == 1
    assert balance_for(account) == Decimal("90.00")


def test_concurrent_first_postings_create_one_balance_row():
    account = AccountFactory()

    run_in_threads(lambda i: fund(account, "1.00"))

    assert balance_for(account) == Decimal("20.00")
    assert list(balance_mismatches()) == []


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250.00"), places=2)
operations = st.lists(
    st.tuples(st.sampled_from(["topup", "charge", "refund", "adjustment"]), amounts, st.booleans()),
    min_size=1,
    max_size=15,
)


def post(account, kind, amount, negative):
    if kind == "topup":
        return fund(account, amount)
    if kind == "charge":
        return spend(account, amount)
    if kind == "refund":
        return refund_record(
            account=account, amount=amount, idempotency_key=new_key(), job=TEST_JOB
        )
    return adjustment_record(
        account=account,
        amount=-amount if negative else amount,
        reason="property test",
        actor=None,
        job=TEST_JOB,
        idempotency_key=new_key(),
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=operations)
def test_random_postings_keep_balance_equal_to_ledger_sum(operations):
    account = AccountFactory()
    expected = Decimal("0.00")
    for kind, amount, negative in operations:
        signed = -amount if kind == "charge" or (kind == "adjustment" and negative) else amount
        try:
            post(account, kind, amount, negative)
        except InsufficientBalance:
            assert expected + signed < 0
        else:
            expected += signed
        assert expected >= 0
        assert balance_for(account) == expected == (ledger_sum(account) or 0)
    assert not balance_mismatches().filter(pk=account.pk).exists()


def test_one_payment_reference_racing_under_many_keys_credits_once():
    account = AccountFactory()

    def record(i):
        return topup_record(
            account=account,
            amount="25.00",
            external_reference="BANK-RACE",
            actor=None,
            job=TEST_JOB,
            idempotency_key=f"topup:race:{i}",
        )

    results = run_in_threads(record, count=8)

    credited = [r for r in results if isinstance(r, LedgerEntry)]
    duplicates = [r for r in results if isinstance(r, TopupDuplicate)]
    assert (len(credited), len(duplicates)) == (1, 7), results
    assert balance_for(account) == Decimal("25.00")
