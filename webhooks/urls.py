"""The account's webhook endpoints pages (web UI, signed in)."""

app_name = "webhooks"

urlpatterns = []
