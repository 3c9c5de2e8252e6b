"""Choice sets shared with apps that must not import inventory's models (e.g. compliance)."""

from django.db import models


class NumberType(models.TextChoices):
    LOCAL = "local", "Local"
    NATIONAL = "national", "National"
    MOBILE = "mobile", "Mobile"
    TOLL_FREE = "toll_free", "Toll-free"
    SHARED_COST = "shared_cost", "Shared cost"


class DIDStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock"
    RESERVED = "reserved", "Reserved"
    ACTIVE = "active", "Active"
    HOLD = "hold", "Hold"
    ARCHIVE = "archive", "Archive"
    # Sold and charged, not routed: the buyer still owes the registration its requirement
    # asks for (compliance). Approval makes it active; the deadline passing releases it.
    AWAITING_REGISTRATION = "awaiting_registration", "Awaiting registration"


# Where a number goes when its hold ends (and the statuses a number can be added with).
AFTER_HOLD_STATUSES = (DIDStatus.IN_STOCK, DIDStatus.RESERVED, DIDStatus.ARCHIVE)
# Statuses in which a number belongs to a customer.
OWNED_STATUSES = (DIDStatus.ACTIVE, DIDStatus.HOLD, DIDStatus.AWAITING_REGISTRATION)
