"""Reads on the number stock. Customer-facing reads are scoped to the requesting user."""

from django.db.models import Count, Q

from accounts.scoping import scoped

from .choices import OWNED_STATUSES, DIDStatus
from .models import DID, ClientPackage, NumberBlock


def dids_for(user, *, status=None, search=""):
    """The numbers a user may see: their own account's (or, for staff, all)."""
    qs = scoped(DID.objects.select_related("block", "owner"), user)
    if status:
        qs = qs.filter(status=status)
    if search:
        # Numbers are stored as E.164; a prefix search also matches digits typed without "+".
        qs = qs.filter(number__startswith=search if search.startswith("+") else f"+{search}")
    return qs.order_by("number")


def client_packages_for(user):
    return scoped(ClientPackage.objects.select_related("package", "account"), user)


def blocks_with_stock():
    """Every block with its count of numbers per status (platform staff)."""
    per_status = {
        f"{status}_count": Count("dids", filter=Q(dids__status=status))
        for status in DIDStatus.values
    }
    return NumberBlock.objects.select_related("operator").annotate(**per_status)


def in_stock_numbers(block, *, limit):
    """Free numbers of a block, answered by the partial in-stock index."""
    return list(
        DID.objects.filter(block=block, status=DIDStatus.IN_STOCK)
        .order_by("number")
        .values_list("number", flat=True)[:limit]
    )


def held_count(client_package):
    return DID.objects.filter(client_package=client_package, status__in=OWNED_STATUSES).count()
