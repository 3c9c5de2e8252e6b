"""Pages of the card lane (being built)."""

urlpatterns = []
