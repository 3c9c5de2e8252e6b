"""DIDWW's ``exports``: a CSV of the account's numbers, made in the background."""

from django.urls import reverse
from rest_framework_json_api import serializers

from api.models import Export


class ExportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    # null when empty (``to_representation``), as DIDWW writes an unset one
    callback_url = serializers.URLField(read_only=True, allow_null=True)
    callback_method = serializers.CharField(read_only=True, allow_null=True)
    external_reference_id = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Export
        resource_name = "exports"
        fields = [
            "status",
            "created_at",
            "url",
            "callback_url",
            "callback_method",
            "external_reference_id",
            "export_type",
            "filters",
        ]

    def get_url(self, export) -> str | None:
        """Where the gzipped CSV is fetched with the key, once completed."""
        if export.status != Export.Status.COMPLETED:
            return None
        path = reverse("api:exports-file", args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in ("callback_url", "callback_method", "external_reference_id"):
            data[name] = data[name] or None
        return data


class ExportCreateSerializer(serializers.Serializer):
    """What ``POST /v3/exports`` accepts; ``api.services_exports.export_create`` decides."""

    export_type = serializers.CharField(max_length=32)
    filters = serializers.JSONField(required=False, default=dict)
    external_reference_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    callback_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, allow_null=True
    )
    callback_method = serializers.CharField(
        max_length=8, required=False, allow_blank=True, allow_null=True
    )

    class Meta:
        resource_name = "exports"
