from django.contrib import admin
from django.urls import include, path

from accounts import brand_views

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("accounts/", include("accounts.urls")),
    path("staff/inventory/", include("inventory.urls")),
    path("numbers/", include("catalog.urls")),
    path("cart/", include("cart.urls")),
    path("billing/", include("billing.urls")),
    path("reseller/", include("resellers.urls")),
    path("payments/", include("payments.urls")),
    path("", include("compliance.urls")),  # /staff/compliance/… and /compliance/…
    path("v3/", include("api.urls")),
    path("account/api-keys/", include("api.urls_keys")),
    path("account/webhooks/", include("webhooks.urls")),
    path("ops/admin/", admin.site.urls),
    # Resellers' brands: public logo and stylesheet; the host registry (platform admins).
    path("brand/<int:pk>/logo", brand_views.brand_logo, name="brand_logo"),
    path("brand/<int:pk>/style.css", brand_views.brand_css, name="brand_css"),
    path("platform/resellers/<int:pk>/hosts/", brand_views.brand_hosts, name="brand_hosts"),
    path(
        "platform/resellers/<int:pk>/hosts/<int:host_pk>/remove/",
        brand_views.brand_host_remove,
        name="brand_host_remove",
    ),
]

handler404 = "didportal.errors.not_found"
handler500 = "didportal.errors.server_error"
