"""What a user may see: the one scoping mechanism for every object looked up from a request.

Models that belong to a tenant declare ``tenant_field``: the lookup path from the model to
its owning ``Account`` (``"pk"`` for Account itself, ``"account"``, ``"owner"``, ...).
``scoped(queryset, user)`` filters in the query itself, so a row of another tenant is never
fetched; ``get_scoped_or_404`` turns "not yours" into the same 404 as "does not exist".
"""

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Account, Role

PLATFORM_ROLES = (Role.PLATFORM_ADMIN, Role.PLATFORM_FINANCE, Role.PLATFORM_COMPLIANCE)
# Every role of a reseller's team sees the reseller's own account and its customers'; what
# each may do with them is ``accounts.permissions``' answer.
RESELLER_ROLES = (Role.RESELLER_ADMIN, Role.RESELLER_SUPPORT, Role.RESELLER_FINANCE)


def visible_account_filter(user, path="pk"):
    """A Q object selecting the accounts ``user`` may see, reached through ``path``."""
    if not (user.is_authenticated and user.is_active and user.account_id):
        return Q(pk__in=[])
    if user.role in PLATFORM_ROLES:
        return Q()
    prefix = "" if path == "pk" else f"{path}__"
    own = Q(**{path: user.account_id})
    if user.role in RESELLER_ROLES:
        return own | Q(**{f"{prefix}parent_id": user.account_id})
    return own


def visible_accounts(user) -> QuerySet:
    return Account.objects.filter(visible_account_filter(user))


def scoped(queryset: QuerySet, user) -> QuerySet:
    path = queryset.model.tenant_field
    return queryset.filter(visible_account_filter(user, path))


def get_scoped_or_404(queryset: QuerySet, user, **lookup):
    return get_object_or_404(scoped(queryset, user), **lookup)
