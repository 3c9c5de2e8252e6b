"""Two finance users pay the same payout at once: one refund, one debit."""

from decimal import Decimal

import pytest

from billing.models import Balance, LedgerEntry
from payments.models import Payout
from payments.services import refunds
from tests.concurrency import run_in_threads
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.refunds_helpers import paid_card, refund_requests

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("method", ["card", "bank_transfer"])
def test_concurrent_pay_pays_once(fake_stripe, method):
    root = platform()
    account = AccountFactory(kind="customer", parent=root)
    admin = UserFactory(account=account, role="customer_admin")
    finance = [UserFactory(account=root, role="platform_finance") for _ in range(2)]
    paid_card(fake_stripe, admin, "90.00")
    payout = refunds.payout_request(user=admin, amount="50")

    def pay(i):
        return refunds.payout_pay(
            actor=finance[i], payout_id=payout.pk, method=method, bank_reference=f"B{i}"
        )

    results = run_in_threads(pay, count=2)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.applied for r in results) == [False, True]
    debits = LedgerEntry.objects.filter(account=account, kind="payout")
    assert list(debits.values_list("amount", flat=True)) == [Decimal("-50.00")]
    assert Balance.objects.get(account=account).amount == Decimal("40.00")
    assert len(refund_requests(fake_stripe)) == (1 if method == "card" else 0)
    assert Payout.objects.get().status == "paid"
