"""Pages of the bank lane (being built)."""

urlpatterns = []
