"""Registration requirements per country and number type, and the buyers' recorded agreements.

A ``Requirement`` is what a carrier asks of a buyer before numbers of a block are activated
(today: read a legal text and agree to it; later: upload documents for review, which will hang
off the requirement as their own models). A block names its requirement explicitly
(``inventory.NumberBlock.requirement``); that link is the only rule deciding which numbers a
requirement applies to (see ``selectors.requirements_for_blocks``).

Every text a buyer may agree to is kept: ``RequirementVersion`` holds the title and text of
each version, and ``RequirementAgreement`` records who agreed to which version, for which order,
when and from where. Agreements are append-only by convention: no service updates them.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

from inventory.choices import NumberType


def text_sha256(text: str) -> str:
    """The fingerprint of a legal text, kept with each agreement."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Requirement(models.Model):
    """What a buyer must accept (later: provide) before numbers of a block are activated.

    ``country`` and ``number_type`` (blank: every type) describe what the requirement is
    about; blocks point to it explicitly. Changing ``title`` or ``text`` through
    ``services.requirement_save`` raises ``version`` by one, so agreements recorded against
    the old text keep the version they accepted.
    """

    country = CountryField()
    number_type = models.CharField(
        max_length=16, choices=NumberType.choices, blank=True, help_text="Blank: all types."
    )
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="Legal text and notes shown to the buyer.")
    internal_notes = models.TextField(
        blank=True, help_text="For platform staff only; never shown to buyers. Not versioned."
    )
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["country", "number_type", "title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "number_type", "title"],
                name="requirement_unique_title",
                violation_error_message=(
                    "A requirement with this title already exists for this country and number type."
                ),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="requirement_version_gte_1"),
        ]

    def __str__(self):
        kind = self.get_number_type_display() if self.number_type else "all types"
        return f"{self.title} ({self.country.code}, {kind}, v{self.version})"

    @property
    def applies_to(self):
        """E.g. "Germany · Local numbers" or "United Kingdom · all types"."""
        kind = f"{self.get_number_type_display()} numbers" if self.number_type else "all types"
        return f"{self.country.name} · {kind}"


class RequirementVersion(models.Model):
    """The title and text of one version of a requirement, as buyers saw it."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["requirement", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "version"], name="requirement_version_once"
            ),
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"


class RequirementAgreement(models.Model):
    """A buyer's "I agree" to one version of a requirement, for one order.

    ``order_id`` is the id of a ``cart.Order`` (a higher app, so no foreign key): checkout's
    ``order_place`` records agreements inside its own transaction. One agreement per
    (account, requirement, version, order): a retried checkout records nothing new.
    Rows are never updated; the title and text fingerprint are copies taken when agreeing.
    """

    tenant_field = "account"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="requirement_agreements"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requirement_agreements"
    )
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="agreements"
    )
    requirement_version = models.PositiveIntegerField()
    title = models.CharField(max_length=200, help_text="The requirement's title as agreed.")
    text_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the text as agreed.")
    order_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    agreed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-agreed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "requirement", "requirement_version", "order_id"],
                name="agreement_once_per_order",
            ),
            models.CheckConstraint(
                condition=Q(requirement_version__gte=1), name="agreement_version_gte_1"
            ),
        ]
        indexes = [models.Index(fields=["account", "-agreed_at"], name="agreement_account_date")]

    def __str__(self):
        return (
            f"{self.title} v{self.requirement_version} — {self.account} ({self.agreed_at:%Y-%m-%d})"
        )
