"""Reads for the webhook pages, scoped in the query to the viewer's own account."""

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404

from .models import Delivery, Endpoint


def endpoints_of(account):
    """The account's endpoints, each with its latest delivery's status and time."""
    latest = Delivery.objects.filter(endpoint=OuterRef("pk")).order_by("-pk")
    return Endpoint.objects.filter(account=account).annotate(
        last_status=Subquery(latest.values("status")[:1]),
        last_at=Subquery(latest.values("created_at")[:1]),
        last_response=Subquery(latest.values("response_status")[:1]),
    )


def endpoint_for(user, pk):
    """The viewer's own account's endpoint, or 404 (another account's id included)."""
    return get_object_or_404(Endpoint, pk=pk, account_id=user.account_id)


def delivery_for(user, pk):
    return get_object_or_404(
        Delivery.objects.select_related("endpoint"), pk=pk, account_id=user.account_id
    )


def deliveries_of(endpoint):
    return endpoint.deliveries.order_by("-pk")


def callbacks_of(account):
    return Delivery.objects.filter(account=account, kind=Delivery.Kind.CALLBACK).order_by("-pk")
