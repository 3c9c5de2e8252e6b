"""System checks: the host middleware must guard every request when Django's own host
list admits any host (see settings, README "Reseller brands and host names")."""

from django.conf import settings
from django.core.checks import Error, register

HOST_MIDDLEWARE = "didportal.middleware.brand_host"


@register()
def brand_host_middleware_guards_hosts(app_configs=None, **kwargs):
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    middleware = list(settings.MIDDLEWARE)
    if HOST_MIDDLEWARE not in middleware:
        return [
            Error(
                'ALLOWED_HOSTS admits "*" but the host middleware is not installed.',
                hint=f"Add {HOST_MIDDLEWARE} to MIDDLEWARE, or list the hosts.",
                id="accounts.E001",
            )
        ]
    position = middleware.index(HOST_MIDDLEWARE)
    readers = [name for name in middleware[:position] if name != "didportal.middleware.healthcheck"]
    if readers:
        return [
            Error(
                f"{HOST_MIDDLEWARE} must come before {readers[0]}: it refuses unknown hosts "
                "before anything reads the Host header.",
                id="accounts.E002",
            )
        ]
    return []
