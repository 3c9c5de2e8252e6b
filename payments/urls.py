"""/payments/…: each part of payments lists its own pages in its views module."""

from . import (
    views_autotopup,
    views_bank,
    views_card,
    views_home,
    views_refunds,
    views_stripe_keys,
    views_webhooks,
)

app_name = "payments"

urlpatterns = [
    *views_home.urlpatterns,
    *views_card.urlpatterns,
    *views_webhooks.urlpatterns,
    *views_bank.urlpatterns,
    *views_refunds.urlpatterns,
    *views_autotopup.urlpatterns,
    *views_stripe_keys.urlpatterns,
]
