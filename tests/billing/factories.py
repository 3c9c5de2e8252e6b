"""Ledger test helpers. Entries are written through the services, never by a model factory,
so the cached balance always matches the ledger."""

import uuid
from decimal import Decimal

from billing.services import charge, ledger_post

TEST_JOB = "tests"


def new_key(prefix="test"):
    return f"{prefix}:{uuid.uuid4().hex}"


def fund(account, amount="100.00"):
    """A bank-transfer top-up written by a test job."""
    return ledger_post(
        account=account,
        kind="topup",
        amount=Decimal(amount),
        idempotency_key=new_key("topup"),
        job=TEST_JOB,
        method="bank_transfer",
        external_reference=new_key("ref"),
    )


def spend(account, amount, key=None):
    return charge(
        account=account,
        amount=Decimal(amount),
        idempotency_key=key or new_key("charge"),
        job=TEST_JOB,
    )
