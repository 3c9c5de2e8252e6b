"""The cart: one per customer user, kept in the database so it survives signing out.

A line is either one specific number (``did`` set, quantity 1, held for the cart on the DID
row by ``inventory.services.dids_cart_hold``) or "any N numbers" of a block (``did`` empty,
nothing held: checkout takes whatever is free then). Prices are never stored here: the cart
always shows today's price through ``cart.pricing``; orders keep what was charged.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The periods a line can be rented for: a recurring block's offered periods, or "one_time"
# for a one-time block (setup fee and extra channels, charged once).
BILLING_PERIODS = ("monthly", "weekly", "daily", "one_time")
PERIOD_LABELS = {
    "monthly": "Monthly",
    "weekly": "Weekly",
    "daily": "Daily",
    "one_time": "One-time",
}


def offered_periods(block):
    """The billing periods a cart line of ``block`` may choose, preferred first."""
    if block.billing_type == block.BillingType.ONE_TIME:
        return ["one_time"]
    return block.billing_periods


class Cart(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="carts")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    tenant_field = "account"

    def __str__(self):
        return f"Cart of {self.user}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    block = models.ForeignKey("inventory.NumberBlock", on_delete=models.CASCADE, related_name="+")
    # A specific number; empty for "any N numbers of the block".
    did = models.ForeignKey(
        "inventory.DID", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=1)
    channels = models.PositiveIntegerField()
    billing_period = models.CharField(max_length=16)
    # Times the number was held again (renewed) for this line: limited while unfunded.
    hold_renewals = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "cart__account"

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "did"], condition=Q(did__isnull=False), name="cart_item_one_per_did"
            ),
            # One "any N" line per block: adding more raises its quantity.
            models.UniqueConstraint(
                fields=["cart", "block"],
                condition=Q(did__isnull=True),
                name="cart_item_one_any_per_block",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="cart_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(did__isnull=True) | Q(quantity=1), name="cart_item_number_quantity_one"
            ),
            models.CheckConstraint(
                condition=Q(channels__gte=1), name="cart_item_channels_positive"
            ),
            models.CheckConstraint(
                condition=Q(billing_period__in=BILLING_PERIODS), name="cart_item_period_valid"
            ),
        ]

    def __str__(self):
        return self.did.number if self.did_id else f"{self.quantity} × {self.block}"

    @property
    def is_any(self):
        return self.did_id is None

    @property
    def period_label(self):
        return PERIOD_LABELS.get(self.billing_period, self.billing_period)

    def hold_state(self, now=None):
        """ "held" (the hold is this cart's and running), "expired" (the number is still free
        to hold again), "gone" (sold, withdrawn or in someone else's cart) or "" for an
        "any N" line. Reads the DID already loaded with the item."""
        if self.did_id is None:
            return ""
        did = self.did
        now = now or timezone.now()
        if did.status != did.Status.IN_STOCK:
            return "gone"
        live = did.cart_held_until is not None and did.cart_held_until >= now
        if did.cart_held_by_id == self.cart.user_id and live:
            return "held"
        if live:
            return "gone"
        return "expired"


from .models_orders import Order, OrderItem  # noqa: E402,F401
