"""Pages of the autotopup lane (being built)."""

urlpatterns = []
