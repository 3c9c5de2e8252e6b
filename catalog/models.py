"""The buyer-side read model: how many numbers of each block can be bought right now."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from inventory.choices import NumberType


class StockDelta(models.Model):
    """Changes to a block's count of buyable (in-stock) numbers.

    Database triggers on the DID table (migration 0002) append a row for every write that
    changes what is in stock: COPY, bulk updates and single saves alike, so no code path can
    forget. A block's available count is the sum of its rows. Appending never locks a shared
    counter row, so concurrent checkouts do not queue or deadlock on it; ``stock_compact``
    periodically folds the rows into one per block.
    """

    # No database-level foreign key: the DID triggers may write a row for a block in the
    # same statement that empties the tables (a test flush on SQLite); a trigger on block
    # deletion removes its rows instead (migration 0002).
    block = models.ForeignKey(
        "inventory.NumberBlock",
        on_delete=models.CASCADE,
        related_name="stock_deltas",
        db_constraint=False,
    )
    delta = models.IntegerField()

    class Meta:
        indexes = [models.Index(fields=["block"], name="stockdelta_block")]

    def __str__(self):
        return f"{self.block_id}: {self.delta:+d}"


# --- Resellers' price lists -------------------------------------------------------------------

PERCENT = {"max_digits": 7, "decimal_places": 2, "default": 0}
MAX_PERCENT = 1000


def _price_field(**kwargs):
    """A price or per-minute amount: 5 decimals, like every price (``inventory``)."""
    return models.DecimalField(max_digits=14, decimal_places=5, default=0, **kwargs)


class MarkupRule(models.Model):
    """One rule of a reseller's price list: how its retail price is made from its wholesale
    price (``catalog.pricing.retail_prices``) for the blocks in the rule's scope.

    **Scope.** ``default`` (every block), ``country`` (the blocks of ``country``),
    ``number_type`` (the blocks of ``number_type``) or ``block`` (one block). Only the field
    the scope names is set (database constraint), one rule per reseller and scope target.
    The **most specific** rule wins, alone (rules never add up): block > country > number
    type > default. A block no rule reaches — and every block of a reseller without rules —
    sells at wholesale.

    **Price parts.** Each part has a percent (0–1000, on the wholesale price) and a fixed
    amount (may be negative):
    - setup fee: wholesale × (1 + percent/100) + fixed;
    - recurring: the percent on each period price (monthly, weekly, daily); the fixed
      amount is **per month**, spread over a week or a day by ``catalog.pricing.per_period``
      (× 12 / 52, × 12 / 365);
    - extra channel: on the per-month price of one extra channel (weekly and daily plans
      pay it spread as ever);
    - per minute: the rate per minute, and the connection fee, each its own pair.

    **Floor.** A retail price is never below wholesale: a negative fixed amount stops at
    the wholesale price.

    **Rounding** (after the floor; only ever up, so never below wholesale; a price of zero
    stays zero; the per-minute rate and connection fee are never rounded — they are
    fractions of a cent):
    - ``none``: the figure as computed, half-up to 5 decimals;
    - ``x9``: up to the next price ending in 9 cents (1.2301 → 1.29, 1.30 → 1.39, 1.29
      stays);
    - ``x5``: up to the next price ending in 5 cents (1.2301 → 1.25, 1.26 → 1.35, 1.25
      stays);
    - ``whole``: up to the next whole unit (1.01 → 2.00, 2.00 stays).

    Changes are recorded (``history``: who, when, what).
    """

    class Scope(models.TextChoices):
        DEFAULT = "default", "Default (every block)"
        COUNTRY = "country", "Country"
        NUMBER_TYPE = "number_type", "Number type"
        BLOCK = "block", "Block"

    class Rounding(models.TextChoices):
        NONE = "none", "None"
        X9 = "x9", "Up to .x9 (ends in 9 cents)"
        X5 = "x5", "Up to .x5 (ends in 5 cents)"
        WHOLE = "whole", "Up to a whole unit"

    # Price parts: (field prefix, label). Each has ``<prefix>_percent`` and ``<prefix>_fixed``.
    PARTS = (
        ("setup", "Setup fee"),
        ("recurring", "Recurring (fixed: per month)"),
        ("extra_channel", "Extra channel (per month)"),
        ("rate", "Rate per minute"),
        ("connection", "Connection fee"),
    )

    reseller = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="markup_rules",
        limit_choices_to={"kind": "reseller"},
    )
    scope = models.CharField(max_length=16, choices=Scope.choices)
    country = CountryField(blank=True)
    number_type = models.CharField(max_length=16, choices=NumberType.choices, blank=True)
    block = models.ForeignKey(
        "inventory.NumberBlock",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="markup_rules",
    )
    setup_percent = models.DecimalField("setup fee: percent", **PERCENT)
    setup_fixed = _price_field(verbose_name="setup fee: fixed")
    recurring_percent = models.DecimalField("recurring: percent", **PERCENT)
    recurring_fixed = _price_field(verbose_name="recurring: fixed per month")
    extra_channel_percent = models.DecimalField("extra channel: percent", **PERCENT)
    extra_channel_fixed = _price_field(verbose_name="extra channel: fixed per month")
    rate_percent = models.DecimalField("rate per minute: percent", **PERCENT)
    rate_fixed = _price_field(verbose_name="rate per minute: fixed")
    connection_percent = models.DecimalField("connection fee: percent", **PERCENT)
    connection_fixed = _price_field(verbose_name="connection fee: fixed")
    rounding = models.CharField(max_length=8, choices=Rounding.choices, default=Rounding.NONE)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    tenant_field = "reseller"

    class Meta:
        ordering = ["reseller", "scope", "country", "number_type", "block", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="default", country="", number_type="", block__isnull=True)
                | (Q(scope="country", number_type="", block__isnull=True) & ~Q(country=""))
                | (Q(scope="number_type", country="", block__isnull=True) & ~Q(number_type=""))
                | Q(scope="block", country="", number_type="", block__isnull=False),
                name="markup_rule_scope_field",
            ),
            models.CheckConstraint(
                condition=Q(rounding__in=["none", "x9", "x5", "whole"]),
                name="markup_rule_rounding_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    setup_percent__gte=0,
                    setup_percent__lte=MAX_PERCENT,
                    recurring_percent__gte=0,
                    recurring_percent__lte=MAX_PERCENT,
                    extra_channel_percent__gte=0,
                    extra_channel_percent__lte=MAX_PERCENT,
                    rate_percent__gte=0,
                    rate_percent__lte=MAX_PERCENT,
                    connection_percent__gte=0,
                    connection_percent__lte=MAX_PERCENT,
                ),
                name="markup_rule_percent_range",
            ),
            models.UniqueConstraint(
                fields=["reseller"],
                condition=Q(scope="default"),
                name="markup_rule_one_default",
            ),
            models.UniqueConstraint(
                fields=["reseller", "country"],
                condition=Q(scope="country"),
                name="markup_rule_one_per_country",
            ),
            models.UniqueConstraint(
                fields=["reseller", "number_type"],
                condition=Q(scope="number_type"),
                name="markup_rule_one_per_number_type",
            ),
            models.UniqueConstraint(
                fields=["reseller", "block"],
                condition=Q(scope="block"),
                name="markup_rule_one_per_block",
            ),
        ]

    def __str__(self):
        return f"{self.reseller}: {self.target_label}"

    @property
    def target_label(self):
        """What the rule covers, for people: "Every block", "Germany", "Mobile", "Block 12"."""
        if self.scope == self.Scope.COUNTRY:
            return self.country.name
        if self.scope == self.Scope.NUMBER_TYPE:
            return self.get_number_type_display()
        if self.scope == self.Scope.BLOCK:
            return f"Block {self.block_id}: {self.block}" if self.block_id else "Block"
        return "Every block"


class RenewalPriceChange(models.Model):
    """A reseller's "apply my price list to renewals from ``effective_on``": the existing
    subscriptions of its customers keep their price until then. Scheduled at least 30 days
    ahead (the customers are e-mailed the old → new price of each number, ``lines``); on
    the date the billing job writes the new prices into the subscriptions
    (``billing.services.repricing``). One scheduled change per reseller at a time.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        APPLIED = "applied", "Applied"

    reseller = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="renewal_price_changes"
    )
    effective_on = models.DateField(help_text="Renewals from this date charge the new prices.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    tenant_field = "reseller"

    class Meta:
        ordering = ["-effective_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "cancelled", "applied"]),
                name="renewal_price_change_status_valid",
            ),
            models.UniqueConstraint(
                fields=["reseller"],
                condition=Q(status="scheduled"),
                name="renewal_price_change_one_scheduled",
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(applied_at__isnull=False),
                name="renewal_price_change_applied_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="renewal_price_change_cancelled_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.reseller}: renewals from {self.effective_on} ({self.status})"


class RenewalPriceChangeLine(models.Model):
    """One subscription a ``RenewalPriceChange`` reprices, with the prices its customer was
    told. ``subscription_id`` names a ``billing.Subscription`` (catalog sits below billing,
    so no foreign key). The new period price and extra-channel price are kept per unit, so
    the change applies to the channels the subscription has on the date; ``old_recurring``
    and ``new_recurring`` are what the e-mail said (2 decimals)."""

    change = models.ForeignKey(RenewalPriceChange, on_delete=models.CASCADE, related_name="lines")
    subscription_id = models.BigIntegerField()
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", help_text="The customer."
    )
    description = models.CharField(max_length=255)
    period_unit = models.CharField(max_length=8)
    new_period_price = _price_field()  # the plan's price of one period, without channels
    new_channel_price = _price_field()  # one extra channel for one period
    old_recurring = models.DecimalField(max_digits=14, decimal_places=2)
    new_recurring = models.DecimalField(max_digits=14, decimal_places=2)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["change", "account", "description", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "subscription_id"], name="renewal_price_line_once"
            ),
            models.CheckConstraint(
                condition=Q(new_period_price__gte=0, new_channel_price__gte=0),
                name="renewal_price_line_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.description}: {self.old_recurring} → {self.new_recurring}"
