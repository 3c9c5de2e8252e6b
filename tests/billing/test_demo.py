from decimal import Decimal

import pytest

from accounts.demo import seed_accounts
from billing.demo import seed_balances
from billing.models import LedgerEntry
from billing.selectors import balance_for

pytestmark = pytest.mark.django_db


def test_seed_balances_is_idempotent():
    accounts = seed_accounts()
    seed_balances(accounts)
    seed_balances(accounts)
    assert balance_for(accounts["direct"]) == Decimal("100.00")
    assert balance_for(accounts["resold"]) == Decimal("75.00")
    assert balance_for(accounts["resold2"]) == Decimal("60.00")
    assert balance_for(accounts["reseller"]) == Decimal("500.00")  # Voxel pays wholesale
    entries = LedgerEntry.objects.all()
    assert entries.count() == 4
    # Whoever collects the money records it: the reseller for its customers, the platform's
    # finance for direct customers and for the reseller.
    by = {e.account_id: e.created_by.email for e in entries}
    assert by[accounts["direct"].pk] == "finance@didportal.test"
    assert by[accounts["resold"].pk] == "reseller@didportal.test"
    assert by[accounts["resold2"].pk] == "reseller@didportal.test"
    assert by[accounts["reseller"].pk] == "finance@didportal.test"
