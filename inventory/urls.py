"""The admins' stock console. Two parts, each in its own module so they grow apart:
the console (operators, blocks, numbers, packages, audit) and the file import."""

from .importing.urls import urlpatterns as import_urlpatterns
from .urls_console import urlpatterns as console_urlpatterns

app_name = "inventory"

urlpatterns = [*console_urlpatterns, *import_urlpatterns]
