"""Reads on balances and the ledger."""

from decimal import Decimal

from django.db.models import DecimalField, F, Sum, Value
from django.db.models.functions import Coalesce, Round

from accounts.models import Account
from accounts.scoping import scoped

from .models import MONEY, Balance, LedgerEntry, TaxRate

ZERO = Decimal("0.00")


def balance_for(account) -> Decimal:
    """The cached balance of an account the caller already may see; 0.00 before any entry."""
    amount = Balance.objects.filter(account=account).values_list("amount", flat=True).first()
    return ZERO if amount is None else amount


def ledger_for(user, account=None):
    """Ledger entries the user may see, newest first; ``balance_after`` is the running balance."""
    entries = scoped(LedgerEntry.objects.select_related("account", "created_by"), user)
    if account is not None:
        entries = entries.filter(account=account)
    return entries.order_by("-pk")


def balance_mismatches():
    """Accounts whose cached balance differs from the sum of their ledger, in one query.

    Each account carries ``cached_balance`` and ``ledger_sum``. Rounding the difference keeps
    SQLite, which sums decimals as floats, from reporting a false mismatch.
    """
    money = DecimalField(**MONEY)
    return (
        Account.objects.annotate(
            ledger_sum=Coalesce(Sum("ledger_entries__amount"), Value(ZERO), output_field=money),
            cached_balance=Coalesce(F("balance__amount"), Value(ZERO), output_field=money),
        )
        .annotate(difference=Round(F("ledger_sum") - F("cached_balance"), 2))
        .exclude(difference=0)
        .order_by("pk")
    )


def balances_for(user, *, search="", low_only=False):
    """Customer and reseller accounts the user may see with their balance and threshold."""
    money = DecimalField(**MONEY)
    accounts = (
        scoped(Account.objects.exclude(kind=Account.Kind.PLATFORM), user)
        .select_related("parent")
        .annotate(
            balance_amount=Coalesce(F("balance__amount"), Value(ZERO), output_field=money),
            threshold=Coalesce(
                F("balance__low_balance_threshold"), Value(Decimal("10.00")), output_field=money
            ),
        )
    )
    if search:
        accounts = accounts.filter(name__icontains=search)
    if low_only:
        accounts = accounts.filter(balance_amount__lt=F("threshold"))
    return accounts.order_by("name", "pk")


def tax_rates():
    return TaxRate.objects.order_by("country")
