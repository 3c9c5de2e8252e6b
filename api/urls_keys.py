"""The account's API keys pages (web UI, signed in): list, create, revoke."""

from django.urls import path

from . import views_keys

app_name = "api_keys"

urlpatterns = [
    path("", views_keys.key_list, name="list"),
    path("new/", views_keys.key_create, name="create"),
    path("<int:pk>/", views_keys.key_detail, name="detail"),
    path("<int:pk>/agree/", views_keys.key_agree, name="agree"),
    path("<int:pk>/revoke/", views_keys.key_revoke, name="revoke"),
]
