"""/v3/ routes of the numbers part of the API (included by ``api.urls``): dids, exports and
resellers' customers. No trailing slashes (the SDK calls ``dids`` and ``dids/<id>``); ids
are matched as text and parsed by the views, so a malformed id is a JSON:API 404."""

from django.urls import path

from . import views_dids, views_exports

dids = views_dids.DidViewSet
customers = views_dids.CustomerViewSet
exports = views_exports.ExportViewSet

urlpatterns = [
    path("dids", dids.as_view({"get": "list"}), name="did-list"),
    path(
        "dids/<str:pk>",
        dids.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="did-detail",
    ),
    path("customers", customers.as_view({"get": "list"}), name="customer-list"),
    path("customers/<str:pk>", customers.as_view({"get": "retrieve"}), name="customer-detail"),
    path("exports", exports.as_view({"get": "list", "post": "create"}), name="export-list"),
    path(
        "exports/<str:pk>.csv.gz",
        views_exports.ExportFileView.as_view(),
        name="export-file",
    ),
    path("exports/<str:pk>", exports.as_view({"get": "retrieve"}), name="export-detail"),
]
