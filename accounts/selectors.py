"""Reads on accounts and users, already scoped to the requesting user."""

from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Account, User
from .scoping import scoped


def customer_accounts_for(user, *, search="", kind=""):
    """Accounts the user looks after (never the user's own account)."""
    qs = scoped(Account.objects.exclude(pk=user.account_id), user).select_related("parent")
    if kind in (Account.Kind.RESELLER, Account.Kind.CUSTOMER):
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(legal_name__icontains=search)
            | Q(users__email__icontains=search)
        ).distinct()
    # Relations of the higher apps are reached by name (billing's balance, inventory's DIDs):
    # accounts imports neither. The numbers held are counted per row shown.
    numbers = Account.objects.filter(pk=OuterRef("pk")).annotate(
        n=Count("dids", filter=Q(dids__status__in=("active", "hold")))
    )
    return qs.annotate(
        user_count=Count("users", distinct=True),
        balance_amount=F("balance__amount"),
        number_count=Subquery(numbers.values("n")[:1]),
    ).order_by("name", "pk")


def team_for(user):
    """Users of the requester's own account."""
    return User.objects.filter(account_id=user.account_id).order_by("email")


def scoped_users(user):
    return scoped(User.objects.select_related("account"), user)


def account_counts():
    rows = Account.objects.values("kind", "status").annotate(n=Count("pk"))
    counts = {}
    for row in rows:
        counts.setdefault(row["kind"], {})[row["status"]] = row["n"]
    return counts


# --- The platform's resellers ----------------------------------------------------------------
# Figures from other apps are reached through their relations to Account (``dids``,
# ``subscription_charges``, ``balance``, ``ledger_entries``), so accounts imports none of them.

_MONEY = DecimalField(max_digits=14, decimal_places=2)
_ZERO = Decimal("0.00")


def _per_reseller(queryset, value):
    """A correlated subquery: ``value`` aggregated over ``queryset`` grouped by reseller."""
    return Coalesce(
        Subquery(queryset.order_by().values("grouping").annotate(v=value).values("v")[:1]),
        Value(0),
    )


def _wholesale_net(since=None):
    condition = Q(subscription_charges__side="wholesale")
    if since is not None:
        condition &= Q(subscription_charges__created_at__gte=since)
    own = Account.objects.filter(pk=OuterRef("pk")).annotate(grouping=F("pk"))
    return Coalesce(
        Subquery(
            own.order_by()
            .values("grouping")
            .annotate(v=Sum("subscription_charges__net", filter=condition))
            .values("v")[:1],
            output_field=_MONEY,
        ),
        Value(_ZERO),
        output_field=_MONEY,
    )


def resellers_for(user, *, search="", now=None):
    """Resellers the user may see (platform staff: all), each with its balance, customers,
    numbers held by its customers and by itself, and the wholesale revenue the platform
    charged it (net, this month and all time). One query, however long the page."""
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    customers = Account.objects.filter(parent=OuterRef("pk")).annotate(grouping=F("parent"))
    own = Account.objects.filter(pk=OuterRef("pk")).annotate(grouping=F("pk"))
    qs = scoped(Account.objects.filter(kind=Account.Kind.RESELLER), user)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(legal_name__icontains=search))
    return qs.annotate(
        balance_amount=Coalesce(F("balance__amount"), Value(_ZERO), output_field=_MONEY),
        customer_count=_per_reseller(customers, Count("pk")),
        customer_numbers=_per_reseller(customers, Count("dids")),
        own_numbers=_per_reseller(own, Count("dids")),
        wholesale_month=_wholesale_net(since=month_start),
        wholesale_total=_wholesale_net(),
    ).order_by("name", "pk")


def reseller_for(user, pk):
    """One reseller with the figures of ``resellers_for``; 404 for anything else."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(resellers_for(user).select_related("brand"), pk=pk)


def account_changes(account):
    """The recorded changes of an account (discount, status), newest first, with who."""
    return (
        account.history.exclude(history_change_reason__isnull=True)
        .exclude(history_change_reason="")
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )
