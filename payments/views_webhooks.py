"""Pages of the webhooks lane (being built)."""

urlpatterns = []
