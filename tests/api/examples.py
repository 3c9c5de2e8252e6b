"""Throw-away /v3/ endpoints for the docs machinery's own tests, shaped like the ones the
other parts of the API add (a JSON:API ModelViewSet with a relationship, ``include``,
``filter[...]``, ``sort``, paging, PATCH and DELETE; a create that a business rule may
refuse with 422). They prove that the OpenAPI document, the fuzzer and the tenancy walker
pick up endpoints by themselves, and that each notices a broken one (``Leaky…``,
``ScopeIgnoring…``, ``Crashing…``, ``Misdescribed…``,
``KeyedQueryset…``). Never routed outside these tests."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse
from django.urls import include, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter
from rest_framework_json_api import serializers
from rest_framework_json_api.relations import ResourceRelatedField

from api.base import ModelViewSet
from api.models import Export
from inventory.models import DID, NumberBlock


class ExampleGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = NumberBlock
        resource_name = "example_groups"
        fields = ("id", "city", "area_code", "voice")


class ExampleNumberSerializer(serializers.ModelSerializer):
    included_serializers = {"did_group": ExampleGroupSerializer}

    number = serializers.CharField(read_only=True)
    description = serializers.CharField(
        source="notes", max_length=100, allow_blank=True, required=False
    )
    ring_timeout = serializers.IntegerField(
        min_value=5, max_value=120, required=False, allow_null=True
    )
    did_group = ResourceRelatedField(source="block", read_only=True, model=NumberBlock)

    class Meta:
        model = DID
        resource_name = "example_numbers"
        fields = ("id", "number", "description", "ring_timeout", "did_group")


class ExampleNumberFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(lookup_expr="icontains")
    did_group__id = django_filters.NumberFilter(field_name="block_id")

    class Meta:
        model = DID
        fields = ("number", "did_group__id")


class ExampleNumberViewSet(ModelViewSet):
    """The key's account's numbers (a reseller's detail pages also reach its customers'),
    as the dids part of the API will have them."""

    resource_name = "example_numbers"
    serializer_class = ExampleNumberSerializer
    queryset = DID.objects.none()
    filterset_class = ExampleNumberFilter
    ordering_fields = ("number", "id")
    http_method_names = ("get", "patch", "delete", "head", "options")

    def get_queryset(self):
        reach = Q(owner=self.account)
        if self.action != "list":
            reach |= Q(owner__parent=self.account)
        return DID.objects.filter(reach).select_related("block").order_by("number", "pk")

    def perform_destroy(self, instance):
        instance.notes = ""  # a stand-in for a business action: nothing is deleted
        instance.save(update_fields=["notes"])


class ExampleExportSerializer(serializers.ModelSerializer):
    export_type = serializers.CharField(max_length=16)
    status = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Export
        resource_name = "example_exports"
        fields = ("id", "export_type", "status", "created_at")


class ExampleExportViewSet(ModelViewSet):
    resource_name = "example_exports"
    serializer_class = ExampleExportSerializer
    queryset = Export.objects.none()
    http_method_names = ("get", "post", "head", "options")

    def get_queryset(self):
        return Export.objects.filter(account=self.account).order_by("-pk")

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The export's file: not JSON:API, so its answer is declared; errors (an unknown
        id) stay JSON:API documents."""
        export = self.get_object()
        return HttpResponse(f"number\r\n# export {export.pk}\r\n", content_type="text/csv")

    def perform_create(self, serializer):
        if serializer.validated_data["export_type"] != "dids":
            raise ValidationError("Only dids exports exist.")  # a service's refusal: 422
        serializer.save(account=self.account, key=self.request.auth)


class LeakyNumberViewSet(ExampleNumberViewSet):
    """Broken on purpose: any account's number, by id."""

    def get_queryset(self):
        return DID.objects.select_related("block").order_by("number", "pk")


class ScopeIgnoringNumberViewSet(ExampleNumberViewSet):
    """Broken on purpose: a read-only key may change numbers."""

    permission_classes = (AllowAny,)


class CrashingNumberViewSet(ExampleNumberViewSet):
    """Broken on purpose: a list filtered by number is a server error."""

    def get_queryset(self):
        if self.request.query_params.get("filter[number]"):
            raise RuntimeError("boom")
        return super().get_queryset()


class MisdescribedNumberSerializer(ExampleNumberSerializer):
    """Broken on purpose: says ``ring_timeout`` is an integer, sends a word."""

    ring_timeout = serializers.SerializerMethodField()

    class Meta(ExampleNumberSerializer.Meta):
        pass

    @extend_schema_field(OpenApiTypes.INT)
    def get_ring_timeout(self, instance):
        return "soon"


class MisdescribedNumberViewSet(ExampleNumberViewSet):
    serializer_class = MisdescribedNumberSerializer


class KeyedQuerysetNumberViewSet(ExampleNumberViewSet):
    """Careless on purpose: no class-level queryset, so describing it needs a key."""

    queryset = None


def _router(*registrations):
    router = SimpleRouter(trailing_slash=False)
    for prefix, viewset in registrations:
        router.register(prefix, viewset, basename=prefix)
    return router.urls


def _urlconf(*registrations):
    """The portal's URLs with these /v3/ endpoints in front (namespace ``examples``)."""
    from didportal.urls import urlpatterns

    routes = _router(*registrations)
    return [path("v3/", include((routes, "examples"))), *urlpatterns]


class Examples:
    """What well-made endpoints look like."""

    urlpatterns = _urlconf(
        ("example_numbers", ExampleNumberViewSet), ("example_exports", ExampleExportViewSet)
    )


class Leaky:
    urlpatterns = _urlconf(("example_numbers", LeakyNumberViewSet))


class ScopeIgnoring:
    urlpatterns = _urlconf(("example_numbers", ScopeIgnoringNumberViewSet))


class Crashing:
    urlpatterns = _urlconf(("example_numbers", CrashingNumberViewSet))


class Misdescribed:
    urlpatterns = _urlconf(("example_numbers", MisdescribedNumberViewSet))


class KeyedQueryset:
    urlpatterns = _urlconf(("example_numbers", KeyedQuerysetNumberViewSet))


class Unclassified:
    urlpatterns = _urlconf(("mystery_things", ExampleNumberViewSet))
