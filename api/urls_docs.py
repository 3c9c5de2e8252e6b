"""/v3/ routes of this part of the API (included by ``api.urls``, last: its catch-all
answers JSON:API 404 to any path the parts before it do not know)."""

from django.urls import path, re_path

from . import views_docs

urlpatterns = [
    path("openapi.json", views_docs.OpenApiView.as_view(), name="openapi"),
    path("docs", views_docs.docs, name="docs"),
    re_path(r"^.*$", views_docs.NotFoundView.as_view(), name="not_found"),
]
