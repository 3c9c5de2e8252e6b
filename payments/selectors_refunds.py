"""Reads for receipts and payouts, scoped to the requesting user in the query itself."""

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Account
from accounts.permissions import handles_customer_money, is_finance, may_see_invoices_of
from accounts.scoping import scoped
from billing.models import LedgerEntry

from .models import Payout


def receipt_entry(user, pk):
    """The top-up ledger entry ``pk`` if ``user`` may print its receipt: the account's own
    users who see its balance, and finance who may see the account. Anything else (another
    tenant's entry, an entry that is not a top-up, a reseller's support) is a 404."""
    entries = scoped(LedgerEntry.objects.select_related("account__parent"), user)
    entry = get_object_or_404(entries, pk=pk, kind=LedgerEntry.Kind.TOPUP)
    if not may_see_invoices_of(user, entry.account):
        raise Http404("No such receipt.")
    return entry


def _decidable_filter(user):
    """The payouts ``user`` decides: the platform's finance those the platform pays (its
    resellers and direct customers), a reseller's admins and finance its customers'."""
    if is_finance(user):
        return Q(seller__kind=Account.Kind.PLATFORM)
    if handles_customer_money(user):
        return Q(seller_id=user.account_id, account__parent_id=user.account_id)
    return Q(pk__in=[])


def payouts_decidable_by(user, *, status=""):
    payouts = Payout.objects.filter(_decidable_filter(user)).select_related(
        "account", "requested_by", "decided_by", "card_payment"
    )
    if status:
        payouts = payouts.filter(status=status)
    return payouts.order_by("-requested_at", "-pk")


def payout_for(user, pk):
    """A payout the user decides, or reads as platform finance; else 404."""
    visible = Q() if is_finance(user) else _decidable_filter(user)
    payouts = Payout.objects.filter(visible).select_related(
        "account__parent", "requested_by", "decided_by", "card_payment", "ledger_entry"
    )
    return get_object_or_404(payouts, pk=pk)


def payout_parts(payout):
    """The other payouts one request was paid as (a card payout split across card
    payments: each part is its own paid payout, asked at the same moment)."""
    if payout.status != Payout.Status.PAID:
        return Payout.objects.none()
    return (
        Payout.objects.filter(
            account_id=payout.account_id,
            requested_at=payout.requested_at,
            status=Payout.Status.PAID,
        )
        .exclude(pk=payout.pk)
        .select_related("card_payment")
        .order_by("pk")
    )


def own_payouts(account):
    return (
        Payout.objects.filter(account=account)
        .select_related("card_payment")
        .order_by("-requested_at", "-pk")
    )


def open_payout(account):
    return Payout.objects.filter(account=account, status=Payout.Status.REQUESTED).first()
