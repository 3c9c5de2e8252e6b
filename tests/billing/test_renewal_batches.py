"""The renewal run renews a claimed batch together (one balance lock per account, the
debits, charges and new periods written per batch), with the outcome one-by-one renewals
would give: exact charges, holds where the balance runs out, running balances per entry."""

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Balance, LedgerEntry, Subscription
from billing.selectors import balance_mismatches
from billing.services.renewals import (
    subscription_renew,
    subscriptions_renew_due,
)
from billing.tax import tax_for
from inventory.choices import DIDStatus
from inventory.services import did_transition
from outbox.models import OutgoingEmail
from tests.billing.factories import fund, spend
from tests.billing.test_subscriptions_helpers import start
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Subscription.Status
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
# Three daily periods (1, 2, 3) have started by then for a subscription started at T0.
LATER = T0 + timedelta(days=3, hours=1)
D = Decimal


def account_with_admin(country="US", **fields):
    account = AccountFactory(country=country, **fields)
    UserFactory(account=account, role="customer_admin")
    return account


def daily(account, price):
    return start(account, unit="day", price=price)


def indexes(sub):
    return list(sub.charges.order_by("period_index").values_list("period_index", flat=True))


def ledger(account):
    return list(
        LedgerEntry.objects.filter(account=account)
        .order_by("pk")
        .values_list("amount", "balance_after")
    )


def assert_running_balance(account):
    entries = ledger(account)
    assert entries, account
    running = D("0.00")
    for amount, balance_after in entries:
        running += amount
        assert balance_after == running  # each entry carries the balance right after it
    assert Balance.objects.get(account=account).amount == running


def low_balance_emails(account):
    return OutgoingEmail.objects.filter(subject__contains=f"Low balance on {account.name}:")


def test_a_batch_over_several_accounts_where_one_runs_out_midway():
    with time_machine.travel(T0, tick=False):
        rich = account_with_admin()
        fund(rich, "100.00")
        rich_subs = [daily(rich, "1.00") for _ in range(3)]

        short = account_with_admin()
        fund(short, "18.50")  # 6.50 for the first periods, 12.00 left for renewals
        first, dear, cheap = daily(short, "2.00"), daily(short, "4.00"), daily(short, "0.50")

        empty = account_with_admin()
        fund(empty, "1.00")
        broke = daily(empty, "1.00")  # the first period takes it all

        gone = account_with_admin()
        fund(gone, "10.00")
        released = daily(gone, "1.00")
        did_transition(did=released.did, to_status=DIDStatus.IN_STOCK, job="tests", reason="x")
    assert not low_balance_emails(short).exists()  # 12.00 left: above the 10.00 threshold
    released.refresh_from_db()
    assert released.status == S.ENDED  # ended by the release itself, before any renewal

    counts = subscriptions_renew_due(now=LATER)

    assert counts == {"renewed": 5, "hold": 2, "ended": 0, "skipped": 0, "failed": 0}
    for sub in [*rich_subs, first, dear, cheap, broke, released]:
        sub.refresh_from_db()
        sub.did.refresh_from_db()

    # The rich account: every missed period of every subscription, once.
    for sub in rich_subs:
        assert (sub.status, indexes(sub)) == (S.ACTIVE, [0, 1, 2, 3])
        assert sub.next_renewal_at == sub.current_period_end == T0 + timedelta(days=4)
    assert Balance.objects.get(account=rich).amount == D("88.00")

    # The short account, in subscription order: 2.00 × 3 (12.00 → 6.00), then 4.00 once
    # (→ 2.00) and its next period is not covered: on hold with period 1 kept; the cheaper
    # one after it still renews all three (→ 0.50).
    assert (first.status, indexes(first)) == (S.ACTIVE, [0, 1, 2, 3])
    assert (dear.status, indexes(dear), dear.current_period_index) == (S.HOLD, [0, 1], 1)
    assert (dear.next_renewal_at, dear.renewal_failed_at) == (None, LATER)
    assert (dear.did.status, dear.did.unpaid) == (DIDStatus.HOLD, True)
    assert (cheap.status, indexes(cheap)) == (S.ACTIVE, [0, 1, 2, 3])
    assert cheap.did.status == DIDStatus.ACTIVE
    assert [balance_after for _, balance_after in ledger(short)] == [
        *(D("18.50"), D("16.50"), D("12.50"), D("12.00")),  # top-up, first periods
        *(D("10.00"), D("8.00"), D("6.00")),  # 2.00 × 3
        D("2.00"),  # 4.00 once
        *(D("1.50"), D("1.00"), D("0.50")),  # 0.50 × 3
    ]
    assert Balance.objects.get(account=short).amount == D("0.50")
    # One low-balance e-mail, with the balance the debit crossing 10.00 left.
    [low] = low_balance_emails(short)
    assert "8.00 USD" in low.subject
    assert Balance.objects.get(account=short).low_balance_notified

    # Nothing to spend: on hold without a charge; a released number: ended, not charged.
    assert (broke.status, indexes(broke), broke.did.status) == (S.HOLD, [0], DIDStatus.HOLD)
    assert (released.status, indexes(released)) == (S.ENDED, [0])
    assert Balance.objects.get(account=gone).amount == D("9.00")

    held = OutgoingEmail.objects.filter(key__startswith="renewal-failed:")
    assert {key.split(":")[1] for key in held.values_list("key", flat=True)} == {
        str(dear.pk),
        str(broke.pk),
    }

    for account in (rich, short, empty, gone):
        assert_running_balance(account)
    assert list(balance_mismatches()) == []
    assert subscriptions_renew_due(now=LATER)["renewed"] == 0  # a second run charges nothing
    assert LedgerEntry.objects.filter(kind="charge").count() == 4 * 3 + 4 + 2 + 4 + 1 + 1


def test_the_debit_is_the_one_a_single_renewal_writes():
    with time_machine.travel(T0, tick=False):
        account = account_with_admin()
        fund(account, "10.00")
        sub = daily(account, "1.00")
    subscriptions_renew_due(now=T0 + timedelta(days=1))
    charge = sub.charges.get(period_index=1)
    entry = charge.ledger_entry
    assert (entry.kind, entry.amount, entry.balance_after) == ("charge", D("-1.00"), D("8.00"))
    assert entry.idempotency_key == f"subscription:{sub.pk}:period:1"
    assert (entry.reference_type, entry.reference_id) == ("subscription", str(sub.pk))
    assert entry.description == f"{sub.description} — 2026-03-11 – 2026-03-12"  # local days
    assert (entry.created_by, entry.created_by_job) == (None, "renew_subscriptions")
    assert charge.created_by_job == "renew_subscriptions"
    assert (charge.period_start, charge.period_end) == (
        T0 + timedelta(days=1),
        T0 + timedelta(days=2),
    )


def _scenario(country):
    """Three accounts: plenty, one that runs out mid-way, one with nothing left."""
    accounts = []
    with time_machine.travel(T0, tick=False):
        for funds, prices in (
            ("50.00", ["1.00", "2.00"]),
            ("13.00", ["1.00", "3.00", "0.40", "2.00"]),
            ("1.19", ["1.00"]),
        ):
            account = account_with_admin(country)
            fund(account, funds)
            subs = [daily(account, price) for price in prices]
            accounts.append((account, subs))
    return accounts


def _snapshot(accounts):
    result = []
    for account, subs in accounts:
        balance = Balance.objects.get(account=account)
        rows = []
        for sub in subs:
            sub.refresh_from_db()
            charges = sub.charges.order_by("period_index").values_list(
                "period_index", "period_start", "period_end", "net", "vat", "amount", "vat_rate"
            )
            rows.append(
                (
                    sub.status,
                    sub.current_period_index,
                    sub.current_period_end,
                    sub.next_renewal_at,
                    sub.did.status,
                    list(charges),
                )
            )
        result.append((balance.amount, balance.low_balance_notified, ledger(account), rows))
    return result


@pytest.mark.parametrize("country", ["US", "DE"])
def test_a_batch_renews_exactly_as_one_subscription_at_a_time(country):
    alone, together = _scenario(country), _scenario(country)
    outcomes = Counter(
        subscription_renew(subscription=sub, now=LATER)
        for _, subs in alone  # the one-by-one path, in the run's order (account, then pk)
        for sub in subs
    )

    counts = subscriptions_renew_due(now=LATER)

    assert _snapshot(together) == _snapshot(alone)
    assert {k: v for k, v in counts.items() if v} == dict(outcomes)
    assert outcomes["hold"] >= 2 and outcomes["renewed"] >= 3  # both paths were taken
    assert list(balance_mismatches()) == []


def test_vat_is_decided_for_each_buyer_in_a_batch():
    with time_machine.travel(T0, tick=False):
        buyers = [
            AccountFactory(country="DE"),
            AccountFactory(country="FR"),
            AccountFactory(country="FR", vat_number="FR40303265045"),  # reverse charge
            AccountFactory(country="US"),
            AccountFactory(country="DE"),
        ]
        subs = []
        for account in buyers:
            fund(account, "20.00")
            subs.append(daily(account, "2.05"))
    subscriptions_renew_due(now=T0 + timedelta(days=1))
    for account, sub in zip(buyers, subs, strict=True):
        decision = tax_for(account)
        charge = sub.charges.get(period_index=1)
        taxed = decision.amounts(D("2.05"))
        assert (charge.vat_rate, charge.vat_country, charge.reverse_charge) == (
            decision.rate,
            decision.country,
            decision.reverse_charge,
        )
        assert (charge.net, charge.vat, charge.amount) == (taxed.net, taxed.vat, taxed.gross)
        assert charge.ledger_entry.amount == -taxed.gross
    assert [s.charges.get(period_index=1).amount for s in subs] == [
        D("2.44"),  # DE 19 %
        D("2.46"),  # FR 20 %
        D("2.05"),
        D("2.05"),
        D("2.44"),
    ]


def _queries_to_renew(accounts, per_account):
    with time_machine.travel(T0, tick=False):
        for _ in range(accounts):
            account = AccountFactory()
            fund(account, "100.00")
            for _ in range(per_account):
                daily(account, "1.00")
    with CaptureQueriesContext(connection) as queries:
        # One period each: SQLite splits an INSERT past 999 parameters (~70 entries).
        counts = subscriptions_renew_due(now=T0 + timedelta(days=1))
    assert counts["renewed"] == accounts * per_account
    return len(queries)


def test_the_queries_of_a_run_do_not_grow_with_its_subscriptions():
    small = _queries_to_renew(1, 1)
    large = _queries_to_renew(6, 5)  # (the first run's subscription is not due again)
    # Claim, balances, VAT rate, debits, balances, charges, periods, the accounts' webhook
    # endpoints (number.renewed), two savepoints.
    assert large == small <= 12


def test_a_key_already_on_the_ledger_renews_the_batch_one_by_one(caplog):
    with time_machine.travel(T0, tick=False):
        account = account_with_admin()
        fund(account, "20.00")
        clash, fine = daily(account, "1.00"), daily(account, "1.00")
        spend(account, "7.00", key=f"subscription:{clash.pk}:period:1")  # a foreign posting

    with caplog.at_level(logging.WARNING, logger="billing.services.renewals"):
        counts = subscriptions_renew_due(now=T0 + timedelta(days=1))

    assert "renewing 2 subscriptions together failed" in caplog.text
    assert (counts["renewed"], counts["failed"]) == (1, 1)
    clash.refresh_from_db()
    fine.refresh_from_db()
    assert (clash.current_period_index, indexes(clash)) == (0, [0])  # nothing half-saved
    assert (fine.current_period_index, indexes(fine)) == (1, [0, 1])
    assert Balance.objects.get(account=account).amount == D("10.00")  # 20 − 2 − 7 − 1
    assert_running_balance(account)
    assert list(balance_mismatches()) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_over_accounts_running_out_share_the_work():
    from tests.concurrency import run_in_threads  # noqa: PLC0415

    accounts = []
    for left in range(6):  # each account's balance covers ``left`` renewals of five
        account = AccountFactory(country="US")
        fund(account, str(5 + left))
        subs = [daily(account, "1.00") for _ in range(5)]
        accounts.append((account, left, subs))
    due = max(s.next_renewal_at for _, _, subs in accounts for s in subs)

    results = run_in_threads(lambda i: subscriptions_renew_due(now=due, batch_size=4), count=3)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["renewed"] for r in results) == sum(min(left, 5) for _, left, _ in accounts)
    assert sum(r["hold"] for r in results) == sum(5 - min(left, 5) for _, left, _ in accounts)
    assert sum(r["failed"] for r in results) == 0
    for account, left, _subs in accounts:
        statuses = list(account.subscriptions.values_list("status", flat=True))
        assert statuses.count(S.ACTIVE) == min(left, 5)
        assert Balance.objects.get(account=account).amount == max(left - 5, 0)
        assert_running_balance(account)
    assert list(balance_mismatches()) == []
