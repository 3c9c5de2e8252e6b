"""Invoices: numbered from a gap-free sequence per issuer and year, figures stored once.

An invoice never reads today's prices or today's VAT rates: its lines, totals, seller and
buyer identity are copied in when it is issued (``billing.services.invoices.invoice_issue``). Its
number comes from ``InvoiceSequence`` in the same transaction, so a rolled-back issue
gives its number back and the sequence has no gaps.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone
from django_countries.fields import CountryField

from .models import MONEY

PRICE = {"max_digits": 14, "decimal_places": 5}


class InvoiceSequence(models.Model):
    """The last number used by an issuer in a year, per series (invoices, credit notes);
    locked by every issue."""

    class Series(models.TextChoices):
        INVOICE = "invoice", "Invoices"
        CREDIT_NOTE = "credit_note", "Credit notes"

    issuer = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    series = models.CharField(max_length=16, choices=Series.choices, default=Series.INVOICE)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "series", "year"], name="invoice_sequence_per_series_year"
            )
        ]

    def __str__(self):
        return f"{self.issuer_id}/{self.series}/{self.year}: {self.last_number}"


class InvoiceLogo(models.Model):
    """A seller's logo as printed on its invoices, stored once per distinct image (by its
    SHA-256): an invoice points at the logo it was issued with, so a later brand change
    leaves issued invoices as they were, without a copy of the image per invoice."""

    sha256 = models.CharField(max_length=64, unique=True)
    content = models.BinaryField()
    content_type = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/png", "image/jpeg"]),
                name="invoice_logo_png_or_jpeg",
            )
        ]

    def __str__(self):
        return self.sha256[:12]


class Invoice(models.Model):
    class Status(models.TextChoices):
        PAID = "paid", "Paid"  # prepaid: settled from the balance when issued
        VOID = "void", "Void"

    class Source(models.TextChoices):
        ORDER = "order", "Order"
        # One invoice per account per day for the charges no order invoiced: renewals,
        # periods charged after a top-up resumed a held number.
        DAILY = "daily", "Daily charges"
        # The numbers a registration approval activated: their first period, charged at
        # purchase, is invoiced when it starts.
        REGISTRATION = "registration", "Registration approved"

    issuer = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="issued_invoices"
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3)
    source = models.CharField(max_length=16, choices=Source.choices)
    # What the invoice is for, e.g. ("order", "17"); renewals: the charges on its lines.
    reference_type = models.CharField(max_length=32, blank=True)
    reference_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PAID)

    seller_name = models.CharField(max_length=200)
    seller_legal_name = models.CharField(max_length=200, blank=True)
    seller_address = models.TextField(blank=True)
    seller_country = CountryField(blank=True)
    seller_vat_number = models.CharField(max_length=32, blank=True)
    # A reseller's brand as it stood at issue (``accounts.Brand``): the name shown to its
    # customers, its logo, the bank details and footer its invoices print. Blank for the
    # platform, whose invoices print its account identity only.
    seller_display_name = models.CharField(max_length=100, blank=True)
    seller_logo = models.ForeignKey(
        InvoiceLogo, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    seller_bank_details = models.TextField(blank=True)
    seller_footer = models.TextField(blank=True)
    buyer_name = models.CharField(max_length=200)
    buyer_legal_name = models.CharField(max_length=200, blank=True)
    buyer_address = models.TextField(blank=True)
    buyer_country = CountryField(blank=True)
    buyer_vat_number = models.CharField(max_length=32, blank=True)

    # Whose VAT applies ("" outside the EU) and the note printed with it.
    tax_country = CountryField(blank=True)
    reverse_charge = models.BooleanField(default=False)
    tax_note = models.CharField(max_length=255, blank=True)
    net = models.DecimalField(**MONEY)
    vat = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)

    pdf_path = models.CharField(max_length=255, blank=True)  # under PRIVATE_STORAGE_ROOT
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=255, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_job = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "account"

    class Meta:
        ordering = ["-issue_date", "-sequence"]
        indexes = [
            models.Index(fields=["account", "-issue_date"], name="invoice_account_recent"),
            models.Index(fields=["issuer", "-issue_date"], name="invoice_issuer_recent"),
            models.Index(fields=["issue_date"], name="invoice_issue_date"),
            models.Index(
                fields=["created_at"], condition=Q(pdf_path=""), name="invoice_pdf_missing"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "sequence"], name="invoice_sequence_unique"
            ),
            models.UniqueConstraint(fields=["issuer", "number"], name="invoice_number_unique"),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="invoice_sequence_positive"),
            models.CheckConstraint(
                condition=Q(gross=Round(F("net") + F("vat"), 2)),
                name="invoice_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["paid", "void"]), name="invoice_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="paid", voided_at__isnull=True)
                | (Q(status="void", voided_at__isnull=False) & ~Q(void_reason="")),
                name="invoice_void_has_date_and_reason",
            ),
            models.CheckConstraint(
                condition=Q(created_by__isnull=False) | ~Q(created_by_job=""),
                name="invoice_has_author",
            ),
        ]

    def __str__(self):
        return self.number


class InvoiceLine(models.Model):
    class Part(models.TextChoices):
        SETUP = "setup", "Setup fee"
        PERIOD = "period", "Period"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=255)
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)  # the last day, inclusive
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1)
    unit_price = models.DecimalField(**PRICE)
    net = models.DecimalField(**MONEY)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)
    # The charge this line bills: each part of a charge is invoiced once, ever.
    subscription_charge = models.ForeignKey(
        "billing.SubscriptionCharge",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    charge_part = models.CharField(max_length=8, choices=Part.choices, blank=True)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            models.UniqueConstraint(
                fields=["subscription_charge", "charge_part"],
                condition=Q(subscription_charge__isnull=False),
                name="invoice_line_charge_part_once",
            ),
            models.CheckConstraint(
                condition=Q(gross=Round(F("net") + F("vat"), 2)),
                name="invoice_line_gross_is_net_plus_vat",
            ),
        ]

    def __str__(self):
        return f"{self.invoice_id} #{self.position}: {self.description}"


InvoiceLine.tenant_field = "invoice__account"


class CreditNote(models.Model):
    """The document that cancels a void invoice, in full. Its number (``CN-2026-000001``)
    comes from the issuer's own gap-free credit-note series; its figures are the invoice's,
    copied once. The invoice's lines are the credited lines (an invoice never changes)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    issuer = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="credit_notes"
    )
    number = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    issue_date = models.DateField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255)
    # The amounts credited (positive): the invoice's totals.
    net = models.DecimalField(**MONEY)
    vat = models.DecimalField(**MONEY)
    gross = models.DecimalField(**MONEY)
    pdf_path = models.CharField(max_length=255, blank=True)  # under PRIVATE_STORAGE_ROOT
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "account"

    class Meta:
        ordering = ["-issue_date", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "sequence"], name="credit_note_sequence_unique"
            ),
            models.UniqueConstraint(fields=["issuer", "number"], name="credit_note_number_unique"),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="credit_note_sequence_positive"
            ),
            models.CheckConstraint(
                condition=Q(gross=Round(F("net") + F("vat"), 2)),
                name="credit_note_gross_is_net_plus_vat",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="credit_note_has_reason"),
        ]

    def __str__(self):
        return self.number
