"""The prepaid ledger (append-only) and the cached balance per account.

The balance of an account is the sum of its ledger entries. ``Balance`` caches that sum and
is written in the same transaction as each entry (see ``billing.services.ledger_post``);
``billing.selectors.balance_mismatches`` proves the two agree.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField

MONEY = {"max_digits": 14, "decimal_places": 2}


class LedgerEntry(models.Model):
    """One movement of money on an account's prepaid balance. Never updated, never deleted.

    ``amount`` is signed: credits (top-ups, refunds) are positive, debits (charges) negative,
    adjustments either way. ``balance_after`` is the running balance right after this entry.
    UPDATE and DELETE are refused by a database trigger (migration 0002).
    """

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"
        # Money that left the balance back to the payer: unused balance paid out, or a
        # card payment refunded at the provider.
        PAYOUT = "payout", "Paid back"

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD = "card", "Card"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(**MONEY)
    idempotency_key = models.CharField(max_length=200, unique=True)
    # What the entry pays for, without importing the app that owns it: ("order", "17"),
    # ("subscription_period", "42"), ("invoice", "2026-0001").
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255, blank=True)
    # Who wrote it: a user, or the name of the job when no user was involved.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by_job = models.CharField(max_length=100, blank=True)
    # Top-ups: how the money came in and the payer's or provider's reference.
    method = models.CharField(max_length=32, choices=Method.choices, blank=True)
    external_reference = models.CharField(max_length=100, blank=True)
    # Adjustments: why finance changed the balance by hand.
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["account", "-id"], name="billing_ledger_account_recent"),
            models.Index(fields=["reference_type", "reference_id"], name="billing_ledger_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["topup", "refund"], amount__gt=0)
                | Q(kind__in=["charge", "payout"], amount__lt=0)
                | (Q(kind="adjustment") & ~Q(amount=0)),
                name="ledger_amount_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="topup") | (~Q(method="") & ~Q(external_reference="")),
                name="ledger_topup_has_method_and_reference",
            ),
            # One payment reference credits one top-up, whatever key its request carried.
            models.UniqueConstraint(
                fields=["method", "external_reference"],
                condition=Q(kind="topup"),
                name="ledger_topup_reference_once",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | ~Q(reason=""),
                name="ledger_adjustment_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(created_by__isnull=False) | ~Q(created_by_job=""),
                name="ledger_has_author",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} on {self.account_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Ledger entries are append-only: post a new entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Ledger entries are append-only: post a reversing entry instead.")


class Balance(models.Model):
    """The cached sum of an account's ledger, locked (select_for_update) by every posting."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.PROTECT, primary_key=True, related_name="balance"
    )
    amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    low_balance_threshold = models.DecimalField(**MONEY, default=Decimal("10.00"))
    # Set when the low-balance e-mail went out; cleared when the balance is back above the
    # threshold, so the e-mail goes once per crossing.
    low_balance_notified = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="balance_not_negative"),
            models.CheckConstraint(
                condition=Q(low_balance_threshold__gte=0), name="balance_threshold_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.amount} on {self.account_id}"


class TaxRate(models.Model):
    """The standard VAT rate of a country, applied by ``billing.tax.tax_for``."""

    country = CountryField(unique=True)
    rate = models.DecimalField(max_digits=5, decimal_places=2, help_text="Percent, e.g. 21.00")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="taxrate_rate_is_a_percentage"
            )
        ]

    def __str__(self):
        return f"{self.country.code} {self.rate}%"


LedgerEntry.tenant_field = "account"
Balance.tenant_field = "account"
from .models_invoices import (  # noqa: E402,F401
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceLogo,
    InvoiceSequence,
)
from .models_subscriptions import (  # noqa: E402,F401
    Subscription,
    SubscriptionCharge,
    SubscriptionEvent,
)
