from django.apps import AppConfig


class ResellersConfig(AppConfig):
    """The reseller's console: its dashboard figures and its customers' pages (statement,
    top-up, numbers, orders, invoices, buying on their behalf). Reads many apps through
    their selectors and writes only through their services."""

    name = "resellers"
