"""/v3/ routes of this part of the API (included by ``api.urls``): the catalog, read-only.
Ids are matched as text and parsed by the views, so a malformed id is a JSON:API 404."""

from django.urls import path

from . import views_catalog as views

LIST = {"get": "list"}
DETAIL = {"get": "retrieve"}


def _routes(prefix, viewset, name):
    return [
        path(prefix, viewset.as_view(LIST), name=f"{name}-list"),
        path(f"{prefix}/<str:pk>", viewset.as_view(DETAIL), name=f"{name}-detail"),
    ]


urlpatterns = [
    *_routes("countries", views.CountryViewSet, "countries"),
    *_routes("regions", views.RegionViewSet, "regions"),
    *_routes("cities", views.CityViewSet, "cities"),
    *_routes("did_group_types", views.DidGroupTypeViewSet, "did_group_types"),
    *_routes("did_groups", views.DidGroupViewSet, "did_groups"),
    *_routes("available_dids", views.AvailableDidViewSet, "available_dids"),
]
