"""Compliance pages: review (to be built)."""

urlpatterns = []
