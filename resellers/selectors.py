"""Reads for the reseller's console, scoped to the requesting user.

A customer comes from ``customer_for`` (a customer account of the user's reseller, else
404); every list below is filtered by that account in the query itself.
"""

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Account
from accounts.scoping import scoped
from billing.models import Balance, Invoice, LedgerEntry, Subscription, SubscriptionCharge
from billing.selectors import balance_for
from cart.models_orders import Order
from catalog.pricing import block_prices
from catalog.selectors import buyable_blocks
from compliance.selectors_checkout import awaiting_registration_count
from inventory.choices import OWNED_STATUSES
from inventory.models import DID

ZERO = Decimal("0.00")
RECENT_ORDERS = 8
BLOCK_CHOICES = 50


def customer_for(user, pk) -> Account:
    """A customer of the user's reseller account, or 404 (another reseller's, a direct
    customer, the reseller itself)."""
    return get_object_or_404(
        scoped(Account.objects.filter(kind=Account.Kind.CUSTOMER), user)
        .exclude(pk=user.account_id)
        .filter(parent_id=user.account_id)
        .select_related("parent"),
        pk=pk,
    )


# --- Dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResellerFigures:
    balance: Decimal
    threshold: Decimal
    revenue: Decimal  # this month: its customers' sale charges, net
    wholesale: Decimal  # this month: its wholesale charges, net
    held: list  # its customers' numbers on hold for "reseller unpaid"
    held_count: int
    recent_orders: list
    customer_count: int

    @property
    def low(self):
        return self.balance < self.threshold

    @property
    def margin(self):
        return self.revenue - self.wholesale


def month_start(now=None):
    today = timezone.localdate(now)
    return timezone.make_aware(datetime.combine(today.replace(day=1), time.min))


def _reseller_held(reseller):
    """Its customers' subscriptions on hold because the reseller could not pay wholesale.

    Until ``Subscription.hold_cause`` lands (lane "money"), every held subscription of a
    reseller's customer counts."""
    held = Subscription.objects.filter(reseller=reseller, status=Subscription.Status.HOLD)
    cause = getattr(Subscription, "HoldCause", None)
    if cause is not None and hasattr(cause, "RESELLER_UNPAID"):
        held = held.filter(hold_cause=cause.RESELLER_UNPAID)
    return held


def reseller_figures(user, *, now=None) -> ResellerFigures:
    """The reseller dashboard's figures: a fixed number of queries."""
    reseller = user.account
    since = month_start(now)
    balance = Balance.objects.filter(account=reseller).first()
    charges = SubscriptionCharge.objects.filter(created_at__gte=since).aggregate(
        # Its customers' charges (their sale side), whoever placed the order.
        revenue=Sum(
            "net",
            filter=Q(side="sale", account__parent=reseller, account__kind=Account.Kind.CUSTOMER),
        ),
        wholesale=Sum("net", filter=Q(side="wholesale", account=reseller)),
    )
    held = _reseller_held(reseller)
    orders = (
        Order.objects.filter(account__parent=reseller, account__kind=Account.Kind.CUSTOMER)
        .select_related("account", "placed_by")
        .order_by("-created_at", "-pk")[:RECENT_ORDERS]
    )
    return ResellerFigures(
        balance=balance.amount if balance else ZERO,
        threshold=balance.low_balance_threshold if balance else Decimal("10.00"),
        revenue=charges["revenue"] or ZERO,
        wholesale=charges["wholesale"] or ZERO,
        held=list(held.select_related("did", "account").order_by("renewal_failed_at", "pk")[:10]),
        held_count=held.count(),
        recent_orders=list(orders),
        customer_count=Account.objects.filter(parent=reseller, kind=Account.Kind.CUSTOMER).count(),
    )


# --- A customer's pages ---------------------------------------------------------------------


def customer_summary(customer):
    """Balance, numbers held and orders of a customer (three queries)."""
    return {
        "balance": balance_for(customer),
        "number_count": DID.objects.filter(owner=customer, status__in=OWNED_STATUSES).count(),
        "order_count": Order.objects.filter(account=customer).count(),
    }


def customer_ledger(user, customer):
    return scoped(LedgerEntry.objects.filter(account=customer), user).order_by("-pk")


def customer_numbers(user, customer, *, search=""):
    numbers = scoped(
        DID.objects.filter(owner=customer, status__in=OWNED_STATUSES), user
    ).select_related("block")
    if search:
        numbers = numbers.filter(number__contains="".join(c for c in search if c.isdigit()))
    return numbers.order_by("number")


def customer_orders(user, customer):
    return (
        scoped(Order.objects.filter(account=customer), user)
        .select_related("placed_by", "invoice")
        .annotate(
            completed_count=Count("items", filter=Q(items__status="completed")),
            failed_count=Count("items", filter=Q(items__status="failed")),
            awaiting_count=awaiting_registration_count(),
        )
        .order_by("-created_at", "-pk")
    )


def customer_invoices(user, customer):
    invoices = Invoice.objects.filter(account=customer)
    return scoped(invoices.select_related("account", "credit_note", "order"), user).order_by(
        "-issue_date", "-sequence", "-pk"
    )


# --- Buying on a customer's behalf ----------------------------------------------------------


def blocks_to_buy(search="", *, viewer=None):
    """Blocks with numbers free now, matching ``search`` (a country's code or name, a city,
    a region), with ``available`` and ``prices`` (what ``viewer`` pays: its retail price);
    at most BLOCK_CHOICES, by country and city."""
    blocks = buyable_blocks().select_related("operator")
    search = search.strip()
    if search:
        condition = Q(city__icontains=search) | Q(region__icontains=search)
        codes = _country_codes(search)
        if codes:
            condition |= Q(country__in=codes)
        blocks = blocks.filter(condition)
    found = list(blocks.order_by("country", "city", "pk")[:BLOCK_CHOICES])
    for block in found:
        block.prices = block_prices(block, viewer)
    return found


def _country_codes(search):
    from django_countries import countries  # noqa: PLC0415

    folded = search.casefold()
    return [
        code
        for code, name in countries
        if code.casefold() == folded or folded in str(name).casefold()
    ]


def block_to_buy(pk):
    """A block with numbers free now, or 404."""
    return get_object_or_404(buyable_blocks().select_related("operator"), pk=pk)
