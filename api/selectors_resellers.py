"""Resellers' keys: whose records a list reads.

``/v3/dids``, ``/v3/orders`` (and exports) read the key's own account by default. A reseller's
key reads one of its customers' instead with ``filter[customer.id]=<customer id>``:
``records_owner`` resolves that filter for a list view, ``customer_for`` for a show. A
customer's key, another reseller's customer, a direct customer, or an id that is not one
answers 404 (the same as "no such customer"); a reseller role that may not read that kind
of record of its customers answers 403, as the reseller console does (finance reads
orders, not numbers; support reads numbers and orders; admins everything).

Views declare ``customer__id`` in their filterset (``CustomerFilterSet``) so the JSON:API
filter backend accepts the parameter; the scoping itself happens here, in the query.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Account
from accounts.permissions import may_see_customer_money, may_serve_customer
from accounts.scoping import scoped

PARAM = "filter[customer.id]"

# What a reseller's user may read of its customers, per kind of record (the console's rules).
RULES = {
    "dids": may_serve_customer,
    "exports": may_serve_customer,
    "orders": lambda user, account: (
        may_serve_customer(user, account) or may_see_customer_money(user, account)
    ),
}


def customers_of(user):
    """The customers of ``user``'s reseller account, by name (none for any other account)."""
    account = user.account
    if account is None or account.kind != Account.Kind.RESELLER:
        return Account.objects.none()
    return scoped(
        Account.objects.filter(kind=Account.Kind.CUSTOMER, parent_id=account.pk), user
    ).order_by("name", "pk")


def customer_for(user, customer_id) -> Account:
    """One customer of ``user``'s reseller, or ``Http404`` (any other id or text)."""
    text = str(customer_id or "").strip()
    if not text.isdigit() or len(text) > 18:
        raise Http404("No such customer.")
    customer = customers_of(user).filter(pk=int(text)).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def records_owner(request, kind) -> Account:
    """The account whose ``kind`` records ("dids", "orders", "exports") ``request`` reads:
    the key's account, or the customer named by ``filter[customer.id]`` (404 / 403 as the
    module says)."""
    values = request.query_params.getlist(PARAM)
    if not values:
        return request.auth.account
    return owner_for(request.user, values[-1], kind)


def owner_for(user, customer_id, kind) -> Account:
    """The customer ``customer_id`` of ``user``'s reseller, if ``user`` may read its
    ``kind`` records."""
    customer = customer_for(user, customer_id)
    if not RULES[kind](user, customer):
        raise PermissionDenied("Your role does not give access to this customer's records.")
    return customer


class CustomerFilterSet(django_filters.FilterSet):
    """Base of a filterset on a list that ``records_owner`` scopes: declares
    ``filter[customer.id]`` (already applied by the view's queryset)."""

    customer__id = django_filters.CharFilter(method="_scoped_already")

    def _scoped_already(self, queryset, name, value):
        return queryset
