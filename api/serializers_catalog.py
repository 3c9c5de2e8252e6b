"""JSON:API shapes of the catalog, with DIDWW's attribute, meta and relationship names (the
official SDK reads these names: ``didww/resources/*.py``).

The resources are plain objects (``api.selectors_catalog``), not models, so relationships
say their type themselves (``Related``) instead of asking a model for it; the OpenAPI
document (``api.schema``) reads that type as the renderer does.
"""

from types import SimpleNamespace

from rest_framework_json_api import serializers
from rest_framework_json_api.relations import ResourceRelatedField


class Related(ResourceRelatedField):
    """A read-only relationship to one of the catalog's plain objects (anything with a
    ``pk``), of ``resource_type``."""

    def __init__(self, resource_type, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.resource_type = resource_type
        # DJA's renderer asks a relationship field for its type as it asks a serializer.
        self.Meta = SimpleNamespace(resource_name=resource_type)

    def use_pk_only_optimization(self):
        return False

    def to_representation(self, value):
        return {"type": self.resource_type, "id": str(value.pk)}


def _many(resource_type):
    return Related(resource_type, many=True, read_only=True)


class CountrySerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()
    prefix = serializers.CharField()
    iso = serializers.CharField()
    regions = _many("regions")

    included_serializers = {"regions": "api.serializers_catalog.RegionSerializer"}

    class Meta:
        resource_name = "countries"


class RegionSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()
    iso = serializers.CharField(allow_null=True)
    country = Related("countries")

    included_serializers = {"country": CountrySerializer}

    class Meta:
        resource_name = "regions"


class CitySerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()
    country = Related("countries")
    region = Related("regions", allow_null=True)

    included_serializers = {"country": CountrySerializer, "region": RegionSerializer}

    class Meta:
        resource_name = "cities"


class DidGroupTypeSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    name = serializers.CharField()

    class Meta:
        resource_name = "did_group_types"


class StockKeepingUnitSerializer(serializers.Serializer):
    """One channel option of a DID group, priced as the caller pays (without VAT):
    ``setup_price`` once, ``monthly_price`` per period of ``billing_period`` (ours:
    "monthly" when the group is offered monthly; "weekly", "daily", or "one_time" — nothing
    recurring — otherwise)."""

    id = serializers.CharField(source="pk")
    setup_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    monthly_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    channels_included_count = serializers.IntegerField()
    billing_period = serializers.CharField()

    class Meta:
        resource_name = "stock_keeping_units"


class DidGroupSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    prefix = serializers.CharField()
    area_name = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField())
    is_metered = serializers.BooleanField()
    allow_additional_channels = serializers.BooleanField()
    service_restrictions = serializers.CharField(allow_null=True)
    country = Related("countries")
    region = Related("regions", allow_null=True)
    city = Related("cities", allow_null=True)
    did_group_type = Related("did_group_types")
    stock_keeping_units = _many("stock_keeping_units")
    # meta
    needs_registration = serializers.BooleanField()
    is_available = serializers.BooleanField()
    available_dids_enabled = serializers.BooleanField()
    total_count = serializers.IntegerField()

    included_serializers = {
        "country": CountrySerializer,
        "region": RegionSerializer,
        "city": CitySerializer,
        "did_group_type": DidGroupTypeSerializer,
        "stock_keeping_units": StockKeepingUnitSerializer,
    }

    class Meta:
        resource_name = "did_groups"
        meta_fields = (
            "needs_registration",
            "is_available",
            "available_dids_enabled",
            "total_count",
        )


class AvailableDidSerializer(serializers.Serializer):
    id = serializers.CharField(source="pk")
    number = serializers.CharField()
    did_group = Related("did_groups")

    included_serializers = {"did_group": DidGroupSerializer}

    class Meta:
        resource_name = "available_dids"
