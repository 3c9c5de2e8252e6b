from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from billing.models import Balance
from billing.selectors import balance_for, balance_mismatches, ledger_for
from tests.billing.factories import fund, spend
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_balance_for_is_zero_without_entries(customer):
    assert balance_for(customer) == Decimal("0.00")


def test_ledger_for_lists_newest_first_with_running_balance(customer, customer_admin):
    fund(customer, "50.00")
    spend(customer, "20.00")
    spend(customer, "5.50")
    rows = list(ledger_for(customer_admin))
    assert [r.balance_after for r in rows] == [Decimal("24.50"), Decimal("30.00"), Decimal("50")]


def test_ledger_for_is_scoped(customer, customer_admin, stranger, reseller, finance_user):
    reseller_admin = UserFactory(account=reseller, role="reseller_admin")
    resold = AccountFactory(parent=reseller)
    own, theirs, resold_entry = fund(customer), fund(stranger.account), fund(resold)

    assert list(ledger_for(customer_admin)) == [own]
    assert list(ledger_for(stranger)) == [theirs]
    assert list(ledger_for(stranger, account=customer)) == []
    assert list(ledger_for(reseller_admin)) == [resold_entry]
    assert set(ledger_for(finance_user)) == {own, theirs, resold_entry}
    assert list(ledger_for(finance_user, account=customer)) == [own]


def test_no_mismatch_after_many_fractional_postings(customer):
    fund(customer, "0.10")
    for amount in ("0.20", "0.30", "0.70", "1.10"):
        fund(customer, amount)
    spend(customer, "0.30")
    assert list(balance_mismatches()) == []
    call_command("check_balances")


def test_reconcile_finds_a_tampered_cached_balance(customer, capsys):
    fund(customer, "100.00")
    other = AccountFactory()
    fund(other, "5.00")
    Balance.objects.filter(account=customer).update(amount=Decimal("150.00"))
    Balance.objects.filter(account=other).delete()  # ledger without a cached row

    mismatches = {a.pk: (a.cached_balance, a.ledger_sum) for a in balance_mismatches()}
    assert mismatches == {
        customer.pk: (Decimal("150.00"), Decimal("100.00")),
        other.pk: (Decimal("0.00"), Decimal("5.00")),
    }
    with pytest.raises(CommandError, match="2 balance"):
        call_command("check_balances")
    assert "cached 150.00" in capsys.readouterr().out
