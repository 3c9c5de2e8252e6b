"""API keys: what a script presents in the ``Api-Key`` header.

A key belongs to an account and acts as the user who created it (that user's role decides
what it may do, exactly as on the web pages); it stops working when revoked, when that user
is deactivated or leaves the account, or when the account is suspended. Only a SHA-256
hash of the secret is stored (the secret is 256 random bits, so a slow hash adds nothing);
the secret is shown once, when the key is created. ``prefix`` (the secret's first
characters) names the key in lists and logs without revealing it.
"""

import ipaddress

from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.models import private_storage


class ApiKey(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="api_keys"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    read_only = models.BooleanField(
        default=False, help_text="Read-only keys may list and show, never create or change."
    )
    allowed_networks = models.TextField(
        blank=True,
        help_text="Source IP ranges (CIDR), one per line; empty allows any address.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="api_key_revoked_by_with_revoked_at",
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def networks(self):
        """The allowed source networks, parsed (validated when saved by the service)."""
        return [
            ipaddress.ip_network(line.strip(), strict=False)
            for line in self.allowed_networks.splitlines()
            if line.strip()
        ]

    def allows_address(self, address) -> bool:
        networks = self.networks
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)


class ApiKeyAgreement(models.Model):
    """A requirement text the key's creator agreed to for the key's orders (when creating a
    full-access key, and again after a text changed). API orders pass these versions to
    checkout as the web's checkbox does; checkout records its usual per-order agreement."""

    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="agreements")
    requirement = models.ForeignKey(
        "compliance.Requirement", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField()
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agreed_at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "requirement", "version"], name="api_key_agreement_once"
            ),
        ]


class ApiWrite(models.Model):
    """The audit trail of the API's writes: which key changed what, when, from where."""

    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="writes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField()
    resource_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["key", "-at"], name="api_write_key_at")]


class DidReservation(models.Model):
    """DIDWW's reservation of an available number: the cart hold of the web pages
    (``inventory.services.holds``, CART_HOLD_MINUTES), made through the API by a key and
    kept here with its description. It ends when it expires, is deleted, or is ordered."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="did_reservations"
    )
    key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="reservations")
    did = models.ForeignKey("inventory.DID", on_delete=models.CASCADE, related_name="+")
    description = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "expires_at"], name="api_reservation_live")]
        constraints = [
            # One open reservation per number (an expired one is closed before the number
            # is reserved again: ``api.services_orders.did_reservation_create``).
            models.UniqueConstraint(
                fields=["did"], condition=Q(ended_at__isnull=True), name="api_reservation_open_once"
            ),
        ]


class Export(models.Model):
    """DIDWW's exports: a CSV of the account's numbers, made by a Celery task and fetched
    with the key (``url``)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="exports"
    )
    key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, related_name="exports")
    export_type = models.CharField(max_length=16, default="dids")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    external_reference_id = models.CharField(max_length=100, blank=True)
    callback_url = models.URLField(max_length=500, blank=True)
    callback_method = models.CharField(max_length=4, blank=True)
    file = models.FileField(upload_to="api-exports/", storage=private_storage, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
