"""``/v3/did_reservations`` and ``/v3/orders``: parse, scope to the key's account, call
``api.services_orders`` (which calls the web's cart and checkout services), render."""

import django_filters
from django import forms
from django.db.models import F, Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.scoping import scoped
from accounts.throttles import client_ip
from cart.models_orders import Order

from .base import ApiMixin
from .models import DidReservation
from .selectors_resellers import PARAM, CustomerFilterSet, records_owner
from .serializers_orders import (
    MAX_ID,
    STATUS_IN,
    DidReservationCreateSerializer,
    DidReservationSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    order_items,
)
from .services_orders import (
    api_order_create,
    did_reservation_create,
    did_reservation_delete,
    reservations_live,
)


class ReadViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and show; creating and deleting are the subclasses' own methods."""


class DidReservationViewSet(ReadViewSet):
    """Live reservations of the key's account: list, show, create, delete."""

    resource_name = "did_reservations"
    serializer_class = DidReservationSerializer
    ordering_fields = ["created_at", "expires_at"]
    ordering = ["-created_at", "-pk"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document's dry run
            return DidReservation.objects.none()
        return reservations_live(self.account).select_related("did")

    def get_serializer_class(self):
        if self.action == "create":
            return DidReservationCreateSerializer
        return DidReservationSerializer

    def create(self, request):
        form = DidReservationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reservation = did_reservation_create(
            key=request.auth,
            did_id=form.validated_data["available_did"],
            description=form.validated_data.get("description") or "",
        )
        data = DidReservationSerializer(reservation, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        did_reservation_delete(key=request.auth, reservation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class IdList(forms.Field):
    """``1,2,3`` (ids), or the order references ``ORD-000001,…`` with ``references``."""

    def __init__(self, *args, references=False, **kwargs):
        self.references = references
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return []
        ids = []
        for part in str(value).split(","):
            text = part.strip().upper()
            if self.references:
                text = text.removeprefix("ORD-")
            if not text.isdigit() or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(f"“{part.strip()[:40]}” is not an order id.")
            ids.append(int(text))
        return ids[:100]


class StatusList(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return []
        statuses = [part.strip() for part in str(value).split(",")]
        bad = [s for s in statuses if s not in STATUS_IN]
        if bad:
            raise forms.ValidationError(
                f"“{bad[0][:40]}” is not a status: use pending, completed or canceled."
            )
        return statuses


@extend_schema_field(OpenApiTypes.STR)  # comma-separated ids (or ORD- references)
class IdListFilter(django_filters.Filter):
    field_class = IdList

    def filter(self, qs, value):
        return qs.filter(pk__in=value) if value else qs


@extend_schema_field(OpenApiTypes.STR)  # comma-separated: pending, completed, canceled
class StatusFilter(django_filters.Filter):
    field_class = StatusList

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(status__in=[ours for s in value for ours in STATUS_IN[s]])


class OrderFilter(CustomerFilterSet):
    """DIDWW's order filters (and, for resellers' keys, ``customer.id``)."""

    id = IdListFilter()
    reference = IdListFilter(references=True)
    status = StatusFilter()
    external_reference_id = django_filters.CharFilter(max_length=100)
    created_at_gteq = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_at_lteq = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Order
        fields = []


class OrderViewSet(ReadViewSet):
    """The key's account's orders: list (filters, sort, pages), show, create. A reseller's
    key reads one customer's with ``filter[customer.id]`` (``api.selectors_resellers``)."""

    resource_name = "orders"
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["created_at", "status", "amount", "external_reference_id"]
    ordering = ["-created_at", "-pk"]

    def get_serializer_class(self):
        if self.action == "create":
            return OrderCreateSerializer
        return OrderSerializer

    def _orders(self):
        """A list reads one account's (``records_owner``); a show opens any order the key's
        user may see on the web's Orders page (a reseller's: its customers' too)."""
        if self.action == "retrieve" and PARAM not in self.request.query_params:
            return scoped(Order.objects.all(), self.request.user)
        return Order.objects.filter(account=records_owner(self.request, "orders"))

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document's dry run
            return Order.objects.none()
        return (
            self._orders()
            .annotate(amount=F("gross"))
            .prefetch_related(Prefetch("items", queryset=order_items(), to_attr="_api_items"))
        )

    def create(self, request):
        form = OrderCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        order, created = api_order_create(
            key=request.auth,
            requests=data["items"],
            external_reference_id=data["external_reference_id"],
            callback_url=data["callback_url"],
            callback_method=data["callback_method"],
            allow_back_ordering=data["allow_back_ordering"],
            ip_address=client_ip(request) or None,
        )
        order = self.get_queryset().get(pk=order.pk)
        body = OrderSerializer(order, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
