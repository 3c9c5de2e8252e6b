"""Pages of the stripe_keys lane (being built)."""

urlpatterns = []
