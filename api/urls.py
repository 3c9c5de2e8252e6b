"""``/v3/``: DIDWW's API v3 paths, without trailing slashes (the SDK calls ``countries``,
``countries/<id>``). Each part of the API keeps its routes in its own ``urls_*`` module."""

from django.urls import include, path

from . import views_balance

app_name = "api"

urlpatterns = [
    path("balance", views_balance.BalanceView.as_view(), name="balance"),
    path("", include("api.urls_catalog")),
    path("", include("api.urls_orders")),
    path("", include("api.urls_dids")),
    path("", include("api.urls_docs")),  # last: its catch-all answers unknown paths
]
