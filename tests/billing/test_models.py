from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from billing.models import Balance, LedgerEntry
from tests.billing.factories import fund

pytestmark = pytest.mark.django_db


def entry_fields(account, **overrides):
    fields = dict(
        account=account,
        kind="charge",
        amount=Decimal("-1.00"),
        balance_after=Decimal("0.00"),
        idempotency_key="raw-insert",
        created_by_job="tests",
    )
    return fields | overrides


@pytest.mark.parametrize(
    "kind, amount",
    [
        ("topup", "-5.00"),
        ("topup", "0.00"),
        ("refund", "-5.00"),
        ("charge", "5.00"),
        ("charge", "0.00"),
        ("adjustment", "0.00"),
        ("bogus", "5.00"),
    ],
)
def test_amount_sign_must_match_kind(customer, kind, amount):
    extra = {"method": "bank_transfer", "external_reference": "X", "reason": "why"}
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(**entry_fields(customer, kind=kind, amount=amount, **extra))


@pytest.mark.parametrize(
    "overrides",
    [
        {"balance_after": Decimal("-0.01")},
        {"kind": "topup", "amount": Decimal("1.00"), "method": "", "external_reference": "X"},
        {"kind": "topup", "amount": Decimal("1.00"), "method": "bank_transfer"},
        {"kind": "adjustment", "reason": ""},
        {"created_by_job": ""},
    ],
)
def test_other_ledger_constraints(customer, overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(**entry_fields(customer, **overrides))


def test_cached_balance_cannot_be_negative(customer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Balance.objects.create(account=customer, amount=Decimal("-0.01"))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_ledgerentry SET description = 'changed' WHERE id = %s",
        "UPDATE billing_ledgerentry SET amount = 1000 WHERE id = %s",
        "DELETE FROM billing_ledgerentry WHERE id = %s",
    ],
)
def test_database_trigger_refuses_update_and_delete(customer, sql):
    entry = fund(customer)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    entry.refresh_from_db()
    assert entry.amount == Decimal("100.00")


def test_queryset_update_and_delete_hit_the_trigger(customer):
    entry = fund(customer)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.filter(pk=entry.pk, amount=Decimal("100.00")).exists()


def test_python_refuses_save_and_delete_of_an_existing_entry(customer):
    entry = fund(customer)
    entry.description = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
