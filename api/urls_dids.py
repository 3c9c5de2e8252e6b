"""/v3/ routes of the numbers part of the API (included by ``api.urls``): dids, exports and
resellers' customers. No trailing slashes (the SDK calls ``dids`` and ``dids/<id>``); ids
are matched as text and parsed by the views, so a malformed id is a JSON:API 404. Route
names are ``<type>-list`` / ``<type>-detail`` (``api.linkage`` links a relationship it does
not include to ``api:<type>-detail``)."""

from django.urls import path

from . import views_dids, views_exports

dids = views_dids.DidViewSet
customers = views_dids.CustomerViewSet
exports = views_exports.ExportViewSet

urlpatterns = [
    path("dids", dids.as_view({"get": "list"}), name="dids-list"),
    path(
        "dids/<str:pk>",
        dids.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="dids-detail",
    ),
    path("customers", customers.as_view({"get": "list"}), name="customers-list"),
    path("customers/<str:pk>", customers.as_view({"get": "retrieve"}), name="customers-detail"),
    path("exports", exports.as_view({"get": "list", "post": "create"}), name="exports-list"),
    path(
        "exports/<str:pk>.csv.gz",
        views_exports.ExportFileView.as_view(),
        name="exports-file",
    ),
    path("exports/<str:pk>", exports.as_view({"get": "retrieve"}), name="exports-detail"),
]
