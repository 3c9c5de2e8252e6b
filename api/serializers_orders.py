"""DIDWW's ``did_reservations`` and ``orders`` as JSON:API resources.

Input is parsed here (shapes and types: 400 when malformed); whether the ids exist and
what may be bought is the services' call (422 with their words). Our orders map onto
DIDWW's statuses: completed and partly completed orders are ``completed`` (the items say
which numbers failed and why), a failed order (nothing sold, nothing charged) is
``canceled``; ``pending`` exists only inside checkout's transaction.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers as drf
from rest_framework_json_api import serializers
from rest_framework_json_api.relations import ResourceRelatedField

from billing.models import SubscriptionCharge
from cart.models_orders import Order, OrderItem
from inventory.choices import DIDStatus
from inventory.models import DID

from .ids import sku_id
from .models import DidReservation
from .services_orders import ItemRequest

STATUS_OUT = {
    Order.Status.PENDING: "pending",
    Order.Status.COMPLETED: "completed",
    Order.Status.PARTIAL: "completed",
    Order.Status.FAILED: "canceled",
}
STATUS_IN = {
    "pending": [Order.Status.PENDING],
    "completed": [Order.Status.COMPLETED, Order.Status.PARTIAL],
    "canceled": [Order.Status.FAILED],
}
ITEM_TYPE = "did_order_items"
ITEM_ATTRIBUTES = {"sku_id", "qty", "available_did_id", "did_reservation_id"}
UNSUPPORTED_ITEM_ATTRIBUTES = {"billing_cycles_count", "nanpa_prefix_id"}
ORDER_ATTRIBUTES = {
    "items",
    "allow_back_ordering",
    "callback_url",
    "callback_method",
    "external_reference_id",
}
MAX_ITEMS = 100
MAX_ID = 2**63 - 1


class FixedTypeRelatedField(ResourceRelatedField):
    """A to-one relationship rendered with a set JSON:API type (``available_dids`` for a
    DID row: the resource name is DIDWW's, not our model's)."""

    def __init__(self, *, resource_type, **kwargs):
        self.fixed_type = resource_type
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return {"type": self.fixed_type, "id": str(value.pk)}


def parse_id(value, name):
    """An id sent as a JSON number or a string of digits; 400 otherwise."""
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if isinstance(value, bool) or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise drf.ValidationError({name: f"{name} must be an id (digits)."})
    return int(text)


# --- did_reservations ---------------------------------------------------------------------


class ReservedNumberSerializer(serializers.ModelSerializer):
    """The reserved number, for ``include=available_did``: DIDWW's available DID (its
    ``number`` without the +, and its ``did_group``). TODO(orders): the catalog lane's
    ``available_dids`` serializer can take this one's place when both are merged."""

    number = serializers.SerializerMethodField()
    did_group = FixedTypeRelatedField(resource_type="did_groups", source="block")

    class Meta:
        model = DID
        resource_name = "available_dids"
        fields = ["id", "number", "did_group"]

    def get_number(self, did) -> str:
        return did.number.removeprefix("+")


class DidReservationSerializer(serializers.ModelSerializer):
    available_did = FixedTypeRelatedField(resource_type="available_dids", source="did")

    included_serializers = {"available_did": ReservedNumberSerializer}

    class Meta:
        model = DidReservation
        resource_name = "did_reservations"
        fields = ["id", "expires_at", "created_at", "description", "available_did"]


class DidReservationCreateSerializer(drf.Serializer):
    """``{"data": {"type": "did_reservations", "attributes": {"description"},
    "relationships": {"available_did": {"data": {"type": "available_dids", "id"}}}}}``"""

    description = drf.CharField(max_length=100, required=False, allow_blank=True, allow_null=True)
    available_did = drf.JSONField()

    # The answer is a DidReservationSerializer's: the same includes are valid.
    included_serializers = DidReservationSerializer.included_serializers

    class Meta:
        resource_name = "did_reservations"

    def validate_available_did(self, value):
        if not isinstance(value, dict) or value.get("type") != "available_dids":
            raise drf.ValidationError("Link the available_did to reserve (type available_dids).")
        return parse_id(value.get("id"), "available_did")


# --- orders -------------------------------------------------------------------------------


class OrderCreateSerializer(drf.Serializer):
    items = drf.ListField(child=drf.JSONField(), min_length=1, max_length=MAX_ITEMS)
    allow_back_ordering = drf.BooleanField(required=False, allow_null=True, default=True)
    callback_url = drf.CharField(max_length=500, required=False, allow_blank=True, allow_null=True)
    callback_method = drf.ChoiceField(
        choices=["post", "get", "POST", "GET"], required=False, allow_null=True
    )
    external_reference_id = drf.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True, trim_whitespace=True
    )

    class Meta:
        resource_name = "orders"

    def to_internal_value(self, data):
        unknown = sorted(set(data) - ORDER_ATTRIBUTES - {"type", "id", "_meta"})
        if unknown:
            raise drf.ValidationError({unknown[0]: f"Orders have no attribute {unknown[0]}."})
        return super().to_internal_value(data)

    def validate_items(self, items):
        return [self._item(index, item) for index, item in enumerate(items)]

    @staticmethod
    def _item(index, item):
        where = f"Item {index + 1}"
        if not isinstance(item, dict):
            raise drf.ValidationError(f"{where}: an item is an object with type and attributes.")
        if item.get("type") != ITEM_TYPE:
            raise drf.ValidationError(f"{where}: only {ITEM_TYPE} can be ordered here.")
        attributes = item.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise drf.ValidationError(f"{where}: attributes is an object.")
        attributes = {k: v for k, v in attributes.items() if v is not None}
        unsupported = sorted(set(attributes) & UNSUPPORTED_ITEM_ATTRIBUTES)
        if unsupported:
            raise drf.ValidationError(f"{where}: {unsupported[0]} is not supported here.")
        unknown = sorted(set(attributes) - ITEM_ATTRIBUTES)
        if unknown:
            raise drf.ValidationError(f"{where}: {ITEM_TYPE} have no attribute {unknown[0]}.")
        try:
            request = ItemRequest(
                available_did_id=_optional_id(attributes, "available_did_id"),
                did_reservation_id=_optional_id(attributes, "did_reservation_id"),
                sku_id=str(attributes["sku_id"])[:40] if "sku_id" in attributes else None,
                qty=_optional_id(attributes, "qty"),
            )
        except drf.ValidationError as exc:
            field, message = next(iter(exc.detail.items()))
            raise drf.ValidationError(f"{where}: {message[0]}") from None
        if request.available_did_id and request.did_reservation_id:
            raise drf.ValidationError(
                f"{where}: give available_did_id or did_reservation_id, not both."
            )
        if (request.available_did_id or request.did_reservation_id) and request.qty not in (
            None,
            1,
        ):
            raise drf.ValidationError(f"{where}: a specific number is ordered once (qty 1).")
        return request

    def validate(self, attrs):
        attrs["callback_url"] = (attrs.get("callback_url") or "").strip()
        method = (attrs.get("callback_method") or "post").lower()
        attrs["callback_method"] = method if attrs["callback_url"] else ""
        attrs["external_reference_id"] = attrs.get("external_reference_id") or ""
        if attrs.get("allow_back_ordering") is None:
            attrs["allow_back_ordering"] = True
        return attrs


def _optional_id(attributes, name):
    return parse_id(attributes[name], name) if name in attributes else None


def order_items(order_ids=None):
    """Order items with what their rendering reads (number, first charged period)."""
    first = SubscriptionCharge.objects.filter(period_index=0, side="sale")
    return (
        OrderItem.objects.select_related("did", "subscription")
        .prefetch_related(Prefetch("subscription__charges", queryset=first, to_attr="first"))
        .order_by("position")
    )


def _billed(item):
    """The first period charged for the item's number: (from, to) dates, or Nones."""
    charges = getattr(item.subscription, "first", None) if item.subscription_id else None
    if not charges:
        return None, None
    charge = charges[0]
    end = charge.period_end.date().isoformat() if charge.period_end else None
    return charge.period_start.date().isoformat(), end


def item_representation(item: OrderItem) -> dict:
    """One number of an order, as DIDWW's ``did_order_items`` (one per number: ``qty`` 1),
    with our ``status`` and ``failure_reason`` so a failed number says why."""
    billed_from, billed_to = _billed(item)
    return {
        "type": ITEM_TYPE,
        "attributes": {
            "qty": 1,
            "nrc": str(item.setup_fee),
            "mrc": str(item.recurring_price),
            "prorated_mrc": False,
            "billed_from": billed_from,
            "billed_to": billed_to,
            "amount": str(item.gross),
            "did_group_id": str(item.block_id),
            "sku_id": sku_id(item.block_id, item.channels),
            "available_did_id": str(item.did_id) if item.did_id else None,
            "number": item.did.number.removeprefix("+") if item.did_id else None,
            "billing_period": item.billing_period,
            "status": item.status,
            "failure_reason": item.failure_reason or None,
            # Sold and charged, not routed until the requirement's registration is approved.
            "awaiting_registration": bool(item.did_id)
            and item.status == OrderItem.Status.COMPLETED
            and item.did.status == DIDStatus.AWAITING_REGISTRATION,
        },
    }


ITEMS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": [ITEM_TYPE]},
            "attributes": {
                "type": "object",
                "properties": {
                    "qty": {"type": "integer"},
                    "nrc": {"type": "string"},
                    "mrc": {"type": "string"},
                    "prorated_mrc": {"type": "boolean"},
                    "billed_from": {"type": "string", "format": "date", "nullable": True},
                    "billed_to": {"type": "string", "format": "date", "nullable": True},
                    "amount": {"type": "string"},
                    "did_group_id": {"type": "string"},
                    "sku_id": {"type": "string"},
                    "available_did_id": {"type": "string", "nullable": True},
                    "number": {"type": "string", "nullable": True},
                    "billing_period": {"type": "string"},
                    "status": {"type": "string", "enum": ["completed", "failed"]},
                    "failure_reason": {"type": "string", "nullable": True},
                    "awaiting_registration": {"type": "boolean"},
                },
            },
        },
    },
}


class OrderSerializer(serializers.ModelSerializer):
    amount = serializers.DecimalField(source="gross", max_digits=14, decimal_places=2)
    status = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    reference = serializers.CharField()
    callback_url = serializers.SerializerMethodField()
    callback_method = serializers.SerializerMethodField()
    external_reference_id = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta:
        model = Order
        resource_name = "orders"
        fields = [
            "id",
            "amount",
            "status",
            "created_at",
            "description",
            "reference",
            "external_reference_id",
            "callback_url",
            "callback_method",
            "items",
        ]

    def get_status(self, order) -> str:
        return STATUS_OUT.get(order.status, order.status)

    def get_description(self, order) -> str:
        items = _items(order)
        failed = sum(1 for item in items if item.status == OrderItem.Status.FAILED)
        text = f"{len(items)} number{'' if len(items) == 1 else 's'}"
        return f"{text} ({failed} failed)" if failed else text

    def get_callback_url(self, order) -> str | None:
        return order.callback_url or None

    def get_callback_method(self, order) -> str | None:
        return order.callback_method or None

    def get_external_reference_id(self, order) -> str | None:
        return order.external_reference_id or None

    @extend_schema_field(ITEMS_SCHEMA)
    def get_items(self, order):
        return [item_representation(item) for item in _items(order)]


def _items(order):
    """The order's items in position order (prefetched by the view, else read once)."""
    cached = getattr(order, "_api_items", None)
    if cached is None:
        cached = order._api_items = list(order.items.select_related("did").order_by("position"))
    return cached
