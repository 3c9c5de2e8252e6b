from django.contrib import admin
from django.urls import include, path

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
    path("", include("compliance.urls")),  # /staff/compliance/… and /compliance/…
    path("ops/admin/", admin.site.urls),
]

handler404 = "didportal.errors.not_found"
handler500 = "didportal.errors.server_error"
