from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """How money reaches (and leaves) a prepaid balance: card payments through Stripe,
    bank statements reconciled by payment reference, receipts, refunds of unused balance,
    and auto top-up. Credits and debits go through ``billing.services`` (the ledger);
    ``billing.payments`` is the seam billing's pages use to list the ways to pay."""

    name = "payments"
