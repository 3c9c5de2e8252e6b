"""Billing's writes, by sub-domain:

- ``ledger``: balances and the append-only ledger (top-ups, adjustments, refunds, charges);
- ``subscriptions``: price snapshots, start, a period's charge, hold, cancel and end;
- ``renewals``: due periods charged (a batch at a time) and resumes after a top-up;
- ``capacity``: extra channels of a number;
- ``invoices``: invoices from charges, their numbers, PDFs and voids.

The ledger's names are exported here (``billing.services.topup_record``); the other
sub-domains are imported by module.
"""

from .ledger import (
    AMOUNT_LIMIT,
    CENT,
    IdempotencyConflict,
    InsufficientBalance,
    LedgerBatch,
    TopupDuplicate,
    adjustment_record,
    balance_lock,
    balances_lock,
    charge,
    ledger_post,
    money,
    payout_record,
    refund_record,
    topup_record,
)

__all__ = [
    "AMOUNT_LIMIT",
    "CENT",
    "IdempotencyConflict",
    "LedgerBatch",
    "InsufficientBalance",
    "TopupDuplicate",
    "adjustment_record",
    "balance_lock",
    "balances_lock",
    "charge",
    "ledger_post",
    "money",
    "payout_record",
    "refund_record",
    "topup_record",
]
