"""Compliance pages: profile (to be built)."""

urlpatterns = []
