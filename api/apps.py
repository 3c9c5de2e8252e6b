from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API under ``/v3/``, shaped like DIDWW's API v3 (JSON:API) so its official
    SDKs work by changing only the base URL and the key. Views parse and render; every
    write goes through the same services as the web pages (``cart.orders.order_place``,
    ``cart.services``, ``inventory.customer``…): there is no second checkout."""

    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from . import schema  # noqa: F401, PLC0415 (registers the OpenAPI extensions)
