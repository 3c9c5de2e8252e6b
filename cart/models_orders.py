"""Orders: what a checkout bought, item by item, with what was charged.

An order is written once by ``cart.orders.order_place`` and never recomputed: each item
keeps the price and VAT it was charged with, or the reason it failed (nothing charged).
Its status moves only through ``cart.order_status.order_transition`` (the table
``ORDER_TRANSITIONS``), which writes an ``OrderStatusChange`` row: who, when and why.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from didportal.status_history import StatusChange

MONEY = {"max_digits": 14, "decimal_places": 2}


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        PARTIAL = "partial", "Partly completed"
        FAILED = "failed", "Failed"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    # The checkout form's one-time token: a double click or a retry finds this order.
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    currency = models.CharField(max_length=3)
    # What was charged: the completed items only.
    net = models.DecimalField(**MONEY)
    vat = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    reverse_charge = models.BooleanField(default=False)
    tax_note = models.CharField(max_length=255, blank=True)
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, null=True, blank=True, related_name="order"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Orders placed through the API (``api.services_orders``): the key that placed it, the
    # caller's own reference (a retry with it finds this order), and DIDWW's callback.
    api_key = models.ForeignKey(
        "api.ApiKey", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    external_reference_id = models.CharField(max_length=100, blank=True)
    callback_url = models.URLField(max_length=500, blank=True)
    callback_method = models.CharField(max_length=4, blank=True)

    tenant_field = "account"

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "-created_at"], name="order_account_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "completed", "partial", "failed"]),
                name="order_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(gross=Round(F("net") + F("vat"), 2), net__gte=0, vat__gte=0),
                name="order_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | Q(gross=0), name="order_failed_charges_nothing"
            ),
            models.UniqueConstraint(
                fields=["account", "external_reference_id"],
                condition=~Q(external_reference_id=""),
                name="order_external_reference_once",
            ),
            models.CheckConstraint(
                condition=Q(callback_method__in=["", "get", "post"]),
                name="order_callback_method_valid",
            ),
        ]

    def __str__(self):
        return f"Order {self.pk}"

    @property
    def reference(self):
        return f"ORD-{self.pk:06d}"


class OrderStatusChange(StatusChange):
    """One move of an order's status (the first row: "" → pending, when it was placed)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    to_status = models.CharField(max_length=16, choices=Order.Status.choices)

    tenant_field = "order__account"

    class Meta(StatusChange.Meta):
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.order}: {self.from_status or 'new'} → {self.to_status}"


class OrderItem(models.Model):
    """One number of an order: sold (with its subscription) or failed (with the reason)."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    block = models.ForeignKey("inventory.NumberBlock", on_delete=models.PROTECT, related_name="+")
    # The number sold, or the specific number asked for that was no longer available.
    did = models.ForeignKey(
        "inventory.DID", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices)
    failure_reason = models.CharField(max_length=255, blank=True)
    channels = models.PositiveIntegerField()
    billing_period = models.CharField(max_length=16)
    setup_fee = models.DecimalField(**MONEY)
    recurring_price = models.DecimalField(**MONEY)
    net = models.DecimalField(**MONEY)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)
    subscription = models.OneToOneField(
        "billing.Subscription",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order_item",
    )

    tenant_field = "order__account"

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="order_item_position"),
            models.CheckConstraint(
                condition=Q(status="completed", subscription__isnull=False, did__isnull=False)
                | (Q(status="failed", subscription__isnull=True, gross=0) & ~Q(failure_reason="")),
                name="order_item_completed_or_failed_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(gross=Round(F("net") + F("vat"), 2)),
                name="order_item_gross_is_net_plus_vat",
            ),
        ]

    def __str__(self):
        return self.description
