"""DIDWW's ``dids`` and our ``customers`` as JSON:API documents.

A DID is rendered from a ``DidResource``: one of the account's numbers as My numbers reads it
(``cart.selectors_numbers.NumberRow``) with the order it was bought in. Attribute names are
DIDWW's (the official SDK reads them); ``destination`` and ``ring_timeout`` are ours: there
are no trunks here, calls to a number are forwarded to its destination.

Writes are parsed by ``DidUpdateSerializer`` (only what a PATCH may change) and carried out
by the same services as the number's page (``api.views_dids``).
"""

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from rest_framework_json_api import serializers
from rest_framework_json_api.relations import ResourceRelatedField

from cart.models_orders import Order
from cart.selectors_numbers import NumberRow
from inventory.models import RING_TIMEOUT_MAX, RING_TIMEOUT_MIN, NumberBlock


class TypedRelation(ResourceRelatedField):
    """A read-only relationship rendered as ``{"type": <resource_type>, "id": "<pk>"}``:
    the resource types are DIDWW's names, not our models'."""

    def __init__(self, resource_type, **kwargs):
        self.resource_type = resource_type
        super().__init__(read_only=True, **kwargs)
        # DJA (and the OpenAPI document) ask a relationship for its type as a serializer.
        self.Meta = SimpleNamespace(resource_name=resource_type)

    def use_pk_only_optimization(self):
        return False

    def to_representation(self, value):
        return {"type": self.resource_type, "id": str(value.pk)}


@dataclass
class DidResource:
    """What ``DidSerializer`` renders: a number row and the order it came from."""

    row: NumberRow
    order: Order | None = None
    # Cancelled while on hold (or one-time): released at once, no longer the account's.
    released: bool = False

    @property
    def pk(self):
        return self.row.did.pk

    @property
    def did_group(self):
        return self.row.did.block


def digits(number: str) -> str:
    """DIDWW writes numbers as digits: country code, area code, subscriber number."""
    return number.removeprefix("+")


class DidSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk", read_only=True)
    number = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    blocked = serializers.SerializerMethodField()
    awaiting_registration = serializers.SerializerMethodField()
    terminated = serializers.SerializerMethodField()
    capacity_limit = serializers.SerializerMethodField()
    channels_included_count = serializers.SerializerMethodField()
    dedicated_channels_count = serializers.SerializerMethodField()
    billing_cycles_count = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField()
    created_at = serializers.SerializerMethodField()
    destination = serializers.SerializerMethodField()
    ring_timeout = serializers.SerializerMethodField()
    order = TypedRelation("orders", model=Order)
    did_group = TypedRelation("did_groups", model=NumberBlock)

    class Meta:
        resource_name = "dids"

    def get_number(self, obj) -> str:
        return digits(obj.row.did.number)

    def get_description(self, obj) -> str:
        return obj.row.did.description

    def get_blocked(self, obj) -> bool:
        """On hold (renewal unpaid, account suspended, package deactivated): not routed."""
        return obj.row.on_hold

    def get_awaiting_registration(self, obj) -> bool:
        return obj.row.awaiting

    def get_terminated(self, obj) -> bool:
        """Cancelled: released at the end of the paid period (``expires_at``)."""
        return obj.row.ending or obj.released

    def get_capacity_limit(self, obj) -> int:
        """Channels from the next period on (channels given up still work until the paid
        period ends; a PATCH compares with this, as the number's page does)."""
        return obj.row.channels.total

    def get_channels_included_count(self, obj) -> int:
        return obj.row.channels.included

    def get_dedicated_channels_count(self, obj) -> int:
        return obj.row.channels.extra

    def get_billing_cycles_count(self, obj) -> int | None:
        """DIDWW's renewals left: null renews until cancelled; 0 renews no more."""
        return 0 if obj.row.ending or obj.released else None

    def get_expires_at(self, obj) -> datetime | None:
        paid_until = obj.row.paid_until
        return serializers.DateTimeField().to_representation(paid_until) if paid_until else None

    def get_created_at(self, obj) -> datetime:
        rental = obj.row.rental
        when = rental.created_at if rental else obj.row.did.created_at
        return serializers.DateTimeField().to_representation(when)

    def get_destination(self, obj) -> str:
        return obj.row.did.destination

    def get_ring_timeout(self, obj) -> int | None:
        return obj.row.did.ring_timeout


class DidUpdateSerializer(serializers.Serializer):
    """What a PATCH of a DID may change (any subset). ``billing_cycles_count`` is DIDWW's
    renewal counter: here a number renews until cancelled, so null (renew) and 0 (stop at
    the end of the paid period, as ``terminated: true``) are the values it takes."""

    description = serializers.CharField(
        max_length=100, allow_blank=True, allow_null=True, trim_whitespace=True, required=False
    )
    capacity_limit = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    billing_cycles_count = serializers.IntegerField(
        min_value=0, max_value=999, allow_null=True, required=False
    )
    terminated = serializers.BooleanField(required=False)
    destination = serializers.CharField(
        max_length=255, allow_blank=True, allow_null=True, required=False
    )
    ring_timeout = serializers.IntegerField(
        min_value=RING_TIMEOUT_MIN, max_value=RING_TIMEOUT_MAX, allow_null=True, required=False
    )

    class Meta:
        resource_name = "dids"

    def validate_billing_cycles_count(self, value):
        if value not in (None, 0):
            raise serializers.ValidationError(
                "Numbers here renew until cancelled: send null to keep renewing, or 0 to stop "
                "at the end of the paid period."
            )
        return value

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields) - {"id", "type"})
        if unknown:
            raise serializers.ValidationError(
                {name: "This attribute cannot be changed." for name in unknown}
            )
        cycles, terminated = attrs.get("billing_cycles_count", ...), attrs.get("terminated")
        if cycles is not ... and terminated is not None and (cycles == 0) != terminated:
            raise serializers.ValidationError(
                {"billing_cycles_count": "Contradicts terminated: send one of them."}
            )
        return attrs


class CustomerSerializer(serializers.Serializer):
    """A reseller's customer account (not a DIDWW resource: resellers read their customers'
    numbers and orders with ``filter[customer.id]``)."""

    id = serializers.CharField(source="pk", read_only=True)
    name = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    country = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        resource_name = "customers"
