from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing.models import Balance, LedgerEntry
from billing.selectors import balance_for
from billing.services import (
    IdempotencyConflict,
    InsufficientBalance,
    TopupDuplicate,
    adjustment_record,
    charge,
    ledger_post,
    money,
    refund_record,
    topup_record,
)
from billing.services import ledger as services
from outbox.services import outbox_flush
from tests.billing.factories import TEST_JOB, fund, new_key, spend
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [("10.005", "10.01"), ("-10.005", "-10.01"), ("10.004", "10.00"), (3, "3.00")],
)
def test_money_rounds_half_up_to_cents(value, expected):
    assert money(value) == Decimal(expected)


def test_money_refuses_floats_and_nonsense():
    with pytest.raises(TypeError):
        money(0.1)
    for bad in ("abc", "NaN", "Infinity", "1e12"):
        with pytest.raises(ValidationError):
            money(bad)


# --- ledger_post --------------------------------------------------------------------------


def test_post_writes_entry_and_cached_balance(customer):
    entry = fund(customer, "100.00")
    assert entry.balance_after == Decimal("100.00")
    assert balance_for(customer) == Decimal("100.00")
    spent = spend(customer, "30.255")
    assert spent.amount == Decimal("-30.26")
    assert spent.balance_after == Decimal("69.74")
    assert balance_for(customer) == Decimal("69.74")


def test_repeated_key_returns_the_same_entry(customer):
    fund(customer, "100.00")
    first = spend(customer, "10.00", key="order:1")
    again = spend(customer, "10.00", key="order:1")
    assert again.pk == first.pk
    assert LedgerEntry.objects.filter(account=customer).count() == 2
    assert balance_for(customer) == Decimal("90.00")


def test_repeated_key_for_another_posting_is_refused(customer):
    fund(customer, "100.00")
    spend(customer, "10.00", key="order:1")
    with pytest.raises(IdempotencyConflict):
        spend(customer, "11.00", key="order:1")
    with pytest.raises(IdempotencyConflict):
        spend(AccountFactory(), "10.00", key="order:1")


def test_key_taken_by_a_concurrent_transaction_returns_its_entry(customer, monkeypatch):
    """The IntegrityError path: the first look missed an entry committed meanwhile."""
    fund(customer, "100.00")
    first = spend(customer, "10.00", key="order:7")
    real_lookup = services._existing_entry
    calls = []

    def miss_once(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real_lookup(*args, **kwargs)

    monkeypatch.setattr(services, "_existing_entry", miss_once)
    again = spend(customer, "10.00", key="order:7")
    assert again.pk == first.pk
    assert balance_for(customer) == Decimal("90.00")


@pytest.mark.parametrize(
    "kind, amount",
    [("topup", "-1"), ("refund", "0"), ("charge", "1"), ("adjustment", "0"), ("gift", "1")],
)
def test_post_refuses_wrong_sign_or_kind(customer, kind, amount):
    with pytest.raises(ValidationError):
        ledger_post(
            account=customer, kind=kind, amount=amount, idempotency_key=new_key(), job=TEST_JOB
        )
    assert not LedgerEntry.objects.exists()


def test_post_needs_key_and_author(customer):
    with pytest.raises(ValidationError, match="idempotency"):
        ledger_post(account=customer, kind="charge", amount="-1", idempotency_key="", job="x")
    with pytest.raises(ValidationError, match="author"):
        ledger_post(account=customer, kind="charge", amount="-1", idempotency_key=new_key())


def test_insufficient_balance_is_refused_and_nothing_written(customer):
    fund(customer, "25.00")
    with pytest.raises(InsufficientBalance) as caught:
        spend(customer, "40.00")
    message = caught.value.messages[0]
    assert "25.00" in message and "40.00" in message and "15.00" in message
    assert caught.value.shortfall == Decimal("15.00")
    assert LedgerEntry.objects.filter(account=customer).count() == 1
    assert balance_for(customer) == Decimal("25.00")


def test_first_debit_without_balance_row_is_refused(customer):
    with pytest.raises(InsufficientBalance):
        spend(customer, "0.01")
    assert not Balance.objects.filter(account=customer).exists()


def test_debit_to_exactly_zero_is_allowed(customer):
    fund(customer, "10.00")
    assert spend(customer, "10.00").balance_after == Decimal("0.00")


def test_ledger_post_is_atomic_with_its_balance_update(monkeypatch):
    """A failure after the entry is written leaves neither the entry nor the balance."""
    account = AccountFactory()
    fund(account, "10.00")

    def broken(objs, fields, **kwargs):  # the balance update, after the entry's INSERT
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "update_rows", broken)
    with pytest.raises(RuntimeError):
        ledger_post(account=account, kind="charge", amount="-1", idempotency_key="x", job=TEST_JOB)
    assert LedgerEntry.objects.filter(account=account).count() == 1
    assert balance_for(account) == Decimal("10.00")


# --- top-ups, adjustments, refunds, charges ----------------------------------------------


def test_finance_records_a_topup_once_per_payment_reference(customer, finance_user):
    entry = topup_record(
        account=customer, amount="50.00", external_reference="BANK-42", actor=finance_user
    )
    again = topup_record(
        account=customer, amount="50.00", external_reference="BANK-42", actor=finance_user
    )
    assert again.pk == entry.pk
    assert (entry.kind, entry.method, entry.created_by) == ("topup", "bank_transfer", finance_user)
    assert balance_for(customer) == Decimal("50.00")


def test_a_used_payment_reference_is_a_duplicate_naming_the_original(customer, finance_user):
    original = topup_record(
        account=customer,
        amount="50.00",
        external_reference="BANK-43",
        actor=finance_user,
        idempotency_key="topup:form:first",
    )
    # The same request again (same key) is answered with the first entry.
    assert (
        topup_record(
            account=customer,
            amount="50.00",
            external_reference="BANK-43",
            actor=finance_user,
            idempotency_key="topup:form:first",
        )
        == original
    )
    other = AccountFactory()
    for account, amount in [(customer, "50.00"), (other, "70.00")]:
        with pytest.raises(TopupDuplicate, match="already credited") as refused:
            topup_record(
                account=account,
                amount=amount,
                external_reference="BANK-43",
                actor=finance_user,
                idempotency_key="topup:form:second",
            )
        assert refused.value.original == original
    assert balance_for(customer) == Decimal("50.00") and balance_for(other) == Decimal("0")


def test_topup_rules(customer, finance_user, customer_admin):
    with pytest.raises(PermissionDenied):
        topup_record(account=customer, amount="5", external_reference="R", actor=customer_admin)
    with pytest.raises(PermissionDenied):
        topup_record(account=customer, amount="5", external_reference="R", actor=None)
    for bad in [
        dict(amount="0", external_reference="R"),
        dict(amount="5", external_reference="  "),
        dict(amount="5", external_reference="R", method="cash"),
    ]:
        with pytest.raises(ValidationError):
            topup_record(account=customer, actor=finance_user, **bad)
    provider = topup_record(
        account=customer, amount="5", external_reference="PSP-1", actor=None, job="psp_webhook"
    )
    assert provider.created_by_job == "psp_webhook"


def test_adjustment_needs_a_reason_and_cannot_overdraw(customer, finance_user):
    fund(customer, "10.00")
    with pytest.raises(ValidationError, match="reason"):
        adjustment_record(
            account=customer, amount="5", reason=" ", actor=finance_user, idempotency_key="a1"
        )
    with pytest.raises(InsufficientBalance):
        adjustment_record(
            account=customer, amount="-11", reason="typo", actor=finance_user, idempotency_key="a2"
        )
    entry = adjustment_record(
        account=customer, amount="-4", reason="typo", actor=finance_user, idempotency_key="a3"
    )
    assert (entry.amount, entry.reason) == (Decimal("-4.00"), "typo")
    assert balance_for(customer) == Decimal("6.00")


def test_adjustment_by_a_customer_is_refused(customer, customer_admin):
    with pytest.raises(PermissionDenied):
        adjustment_record(
            account=customer, amount="5", reason="gift", actor=customer_admin, idempotency_key="k"
        )


def test_refund_and_charge_reference_what_they_pay_for(customer, finance_user):
    fund(customer, "20.00")
    charged = charge(
        account=customer,
        amount="12.50",
        idempotency_key="order:17",
        reference=("order", 17),
        created_by=finance_user,
    )
    refunded = refund_record(
        account=customer,
        amount="12.50",
        idempotency_key="refund:order:17",
        reference=("order", 17),
        job="order_fail",
    )
    assert (charged.reference_type, charged.reference_id) == ("order", "17")
    assert (charged.amount, refunded.amount) == (Decimal("-12.50"), Decimal("12.50"))
    assert balance_for(customer) == Decimal("20.00")
    with pytest.raises(ValidationError):
        charge(account=customer, amount="-1", idempotency_key="neg", job="x")


# --- low-balance notice -------------------------------------------------------------------


def test_low_balance_email_once_per_crossing(
    customer, customer_admin, customer_member, mailoutbox, django_capture_on_commit_callbacks
):
    def step(action, *args):
        with django_capture_on_commit_callbacks(execute=True):
            action(customer, *args)
        outbox_flush()  # e-mails go through the outbox

    step(fund, "50.00")
    step(spend, "30.00")  # 20.00: still above the 10.00 threshold
    assert mailoutbox == []
    step(spend, "15.00")  # 5.00: crossed
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [customer_admin.email]
    assert "5.00" in mailoutbox[0].subject
    step(spend, "1.00")  # still below: no second e-mail
    step(fund, "2.00")  # 6.00: still below, flag stays set
    step(spend, "1.00")
    assert len(mailoutbox) == 1
    step(fund, "20.00")  # 25.00: back above, flag cleared
    assert not Balance.objects.get(account=customer).low_balance_notified
    step(spend, "20.00")  # 5.00: crossed again
    assert len(mailoutbox) == 2


def test_no_low_balance_email_when_the_debit_is_refused(
    customer, customer_admin, mailoutbox, django_capture_on_commit_callbacks
):
    fund(customer, "12.00")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InsufficientBalance):
        spend(customer, "13.00")
    outbox_flush()
    assert mailoutbox == []
    assert not Balance.objects.get(account=customer).low_balance_notified


def test_low_balance_email_goes_to_reseller_admins_too(
    reseller, mailoutbox, django_capture_on_commit_callbacks
):
    admin = UserFactory(account=reseller, role="reseller_admin")
    fund(reseller, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        spend(reseller, "5.00")
    outbox_flush()
    assert [m.to for m in mailoutbox] == [[admin.email]]


def test_a_broker_outage_does_not_break_the_topup(
    finance_user, customer, broker, django_capture_on_commit_callbacks
):
    """The resume task's enqueue fails (nothing listens on the port): the top-up stands and
    the renewal run's resume pass catches up."""
    broker("redis://127.0.0.1:1/0", {"socket_connect_timeout": 1, "socket_timeout": 1})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.topup_record(
            account=customer, amount="20.00", external_reference="R-1", actor=finance_user
        )
    assert len(callbacks) == 1  # the enqueue ran, failed, and did not raise
    assert balance_for(customer) == Decimal("20.00")
