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
