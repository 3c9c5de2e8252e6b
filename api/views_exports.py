"""``/v3/exports``: create (full-access keys), list, show, and the file (``url``).

Everything is scoped in the query to the key's account: another account's export id answers
404, for the resource and for its file.
"""

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from .base import ApiMixin, ApiView
from .models import Export
from .serializers_exports import ExportCreateSerializer, ExportSerializer
from .services_exports import export_create
from .views_dids import FILTERS, parse_id


class ExportViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    resource_name = "exports"
    serializer_class = ExportSerializer
    filter_backends = FILTERS
    ordering = ["-created_at"]
    sort_fields = {"created_at": "created_at", "status": "status"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document
            return Export.objects.none()
        return Export.objects.filter(account=self.account)

    def get_object(self):
        export = self.get_queryset().filter(pk=parse_id(self.kwargs.get("pk"))).first()
        if export is None:
            raise Http404("Not found.")
        return export

    @extend_schema(request=ExportCreateSerializer, responses={201: ExportSerializer})
    def create(self, request, *args, **kwargs):
        form = ExportCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        export = export_create(key=request.auth, user=request.user, **form.validated_data)
        body = self.get_serializer(export).data
        return Response(body, status=status.HTTP_201_CREATED)


class ExportFileView(ApiView):
    """``GET /v3/exports/<id>.csv.gz``: the completed export's gzipped CSV, with the key."""

    resource_name = "exports"

    def perform_content_negotiation(self, request, force=False):
        # A file, whatever the client accepts (DIDWW's SDK sends no Accept for it).
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/gzip"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        export = (
            Export.objects.filter(
                account=self.account, pk=parse_id(pk), status=Export.Status.COMPLETED
            )
            .exclude(file="")
            .first()
        )
        if export is None:
            raise Http404("Not found.")
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=f"export-{export.pk}.csv.gz",
            content_type="application/gzip",
        )
