"""The account's API keys pages (web UI, signed in): list, create, revoke."""

app_name = "api_keys"

urlpatterns = []
