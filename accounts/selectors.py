"""Reads on accounts and users, already scoped to the requesting user."""

from django.db.models import Count, F, OuterRef, Q, Subquery

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
