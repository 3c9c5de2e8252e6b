"""Reads for the card pages, scoped to the requesting user's own account."""

from django.shortcuts import get_object_or_404

from .models import CardPayment

RECENT = 5


def card_payment_for(user, pk) -> CardPayment:
    """A card payment of the user's own account (404 for anybody else's)."""
    return get_object_or_404(
        CardPayment.objects.select_related("ledger_entry"), pk=pk, account_id=user.account_id
    )


def card_payments_recent(account, limit=RECENT) -> list:
    """The account's latest card payments, newest first."""
    return list(CardPayment.objects.filter(account=account).order_by("-pk")[:limit])
