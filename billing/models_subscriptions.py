"""Subscriptions: what an account rents (a number, or extra capacity) and each period charged.

Prices are a snapshot taken at purchase and never re-read from the price list. Period
boundaries come from ``billing.periods``; ``SubscriptionCharge`` is the one row per
(subscription, period), written in the same transaction as its ledger debit, and its unique
constraints make a second charge for a period impossible.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.utils import timezone

from didportal.status_history import StatusChange

from .models import MONEY
from .periods import UNITS


class Subscription(models.Model):
    class Kind(models.TextChoices):
        NUMBER = "number", "Number"
        CAPACITY = "capacity", "Extra capacity"

    class BillingType(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        RECURRING = "recurring", "Recurring"

    class PeriodUnit(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"
        MONTH = "month", "Month"

    class Status(models.TextChoices):
        # Bought and its first period charged, but the number awaits registration
        # (compliance): the period starts, and renewals with it, when the registration is
        # approved; if it never is, the charge is refunded in full and the rental ends.
        PENDING = "pending", "Awaiting registration"
        ACTIVE = "active", "Active"
        HOLD = "hold", "On hold"
        CANCELLED = "cancelled", "Cancelled"
        ENDED = "ended", "Ended"

    class HoldCause(models.TextChoices):
        # Why a subscription is on hold (blank unless it is): the customer's balance did not
        # cover a renewal; its reseller's balance did not cover the wholesale side (the
        # customer is not charged and not asked to top up); its account is suspended (not
        # renewed at the period end, resumed on reactivation).
        CUSTOMER_UNPAID = "customer_unpaid", "Renewal unpaid"
        RESELLER_UNPAID = "reseller_unpaid", "Reseller unpaid"
        ACCOUNT_SUSPENDED = "account_suspended", "Account suspended"

    LIVE_STATUSES = (Status.ACTIVE, Status.HOLD)
    # Not ended yet: a cancelled subscription runs to the end of its paid period.
    RUNNING_STATUSES = (Status.PENDING, Status.ACTIVE, Status.HOLD, Status.CANCELLED)

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="subscriptions"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NUMBER)
    # The number rented, or the number the extra capacity is for (blank: account-wide).
    did = models.ForeignKey(
        "inventory.DID",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    description = models.CharField(max_length=255, blank=True)
    billing_type = models.CharField(max_length=16, choices=BillingType.choices)
    # One-time subscriptions have no period: unit blank.
    period_unit = models.CharField(max_length=8, choices=PeriodUnit.choices, blank=True)
    period_count = models.PositiveIntegerField(default=1)
    # The start of period ``anchor_index``; every boundary is computed from it
    # (billing.periods). A resume after a hold re-anchors: the next period starts then.
    anchor_at = models.DateTimeField()
    anchor_index = models.PositiveIntegerField(default=0)
    channels = models.PositiveIntegerField(default=0, help_text="Channels paid for.")
    # A number's plan includes ``included_channels``; the ones above it, chosen at checkout,
    # can be given up from a later period like added capacity (``capacity_reduce``).
    included_channels = models.PositiveIntegerField(default=0)
    # Snapshot at purchase, 2 decimals: the price of one period (extra channels included)
    # and the setup fee charged with the first period.
    recurring_price = models.DecimalField(**MONEY)
    # The part of ``recurring_price`` that pays for the channels above ``included_channels``.
    extra_channels_price = models.DecimalField(**MONEY, default=0)
    setup_fee = models.DecimalField(**MONEY, default=0)
    # A reseller's customer: the reseller, who pays the platform the wholesale price of
    # every period (its own charge, in the same transaction as the customer's). Wholesale
    # prices are a snapshot too, taken with the retail ones. Blank: the buyer pays the
    # platform directly (a direct customer, or a reseller buying for itself).
    reseller = models.ForeignKey(
        "accounts.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resold_subscriptions",
    )
    wholesale_recurring_price = models.DecimalField(**MONEY, default=0)
    wholesale_extra_channels_price = models.DecimalField(**MONEY, default=0)
    wholesale_setup_fee = models.DecimalField(**MONEY, default=0)
    currency = models.CharField(max_length=3)
    # The last period charged: its index and bounds (end blank for one-time).
    current_period_index = models.PositiveIntegerField(default=0)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField(null=True, blank=True)
    next_renewal_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    renewal_failed_at = models.DateTimeField(null=True, blank=True)
    hold_cause = models.CharField(max_length=24, choices=HoldCause.choices, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    tenant_field = "account"

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(
                fields=["next_renewal_at", "id"],
                condition=Q(status="active"),
                name="subscription_due",
            ),
            models.Index(
                fields=["account", "renewal_failed_at", "id"],
                condition=Q(status="hold"),
                name="subscription_held",
            ),
            models.Index(
                fields=["current_period_end"],
                condition=Q(status="cancelled"),
                name="subscription_cancelled",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "hold", "cancelled", "ended"]),
                name="subscription_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["number", "capacity"]), name="subscription_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="number") | Q(did__isnull=False),
                name="subscription_number_has_did",
            ),
            models.CheckConstraint(
                condition=Q(period_count__gte=1), name="subscription_period_count_positive"
            ),
            models.CheckConstraint(
                condition=Q(billing_type="one_time", period_unit="", next_renewal_at__isnull=True)
                | Q(
                    billing_type="recurring",
                    period_unit__in=UNITS,
                    current_period_end__isnull=False,
                ),
                name="subscription_period_matches_billing_type",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__isnull=True)
                | Q(current_period_end__gt=F("current_period_start")),
                name="subscription_period_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(recurring_price__gte=0, setup_fee__gte=0),
                name="subscription_prices_not_negative",
            ),
            # Wholesale prices only with a reseller, never negative, the extra channels'
            # part within the period price.
            models.CheckConstraint(
                condition=Q(
                    wholesale_recurring_price__gte=0,
                    wholesale_setup_fee__gte=0,
                    wholesale_extra_channels_price__gte=0,
                    wholesale_extra_channels_price__lte=F("wholesale_recurring_price"),
                )
                & (
                    Q(reseller__isnull=False)
                    | Q(
                        wholesale_recurring_price=0,
                        wholesale_setup_fee=0,
                        wholesale_extra_channels_price=0,
                    )
                ),
                name="subscription_wholesale_prices_with_reseller",
            ),
            models.CheckConstraint(
                condition=Q(
                    included_channels__lte=F("channels"),
                    extra_channels_price__gte=0,
                    extra_channels_price__lte=F("recurring_price"),
                ),
                name="subscription_extra_channels_within",
            ),
            # Only an active recurring subscription renews.
            models.CheckConstraint(
                condition=Q(next_renewal_at__isnull=True)
                | Q(status="active", billing_type="recurring"),
                name="subscription_renews_only_when_active",
            ),
            models.CheckConstraint(
                condition=~Q(status="hold") | Q(renewal_failed_at__isnull=False),
                name="subscription_hold_has_failed_renewal",
            ),
            # A held subscription says why, and only a held one; "reseller unpaid" only when
            # there is a reseller.
            models.CheckConstraint(
                condition=Q(status="hold", hold_cause__in=["customer_unpaid", "account_suspended"])
                | Q(status="hold", hold_cause="reseller_unpaid", reseller__isnull=False)
                | (~Q(status="hold") & Q(hold_cause="")),
                name="subscription_hold_cause_valid",
            ),
            # A reseller never resells to itself.
            models.CheckConstraint(
                condition=Q(reseller__isnull=True) | ~Q(reseller=F("account")),
                name="subscription_reseller_not_buyer",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(ended_at__isnull=False),
                name="subscription_ended_has_date",
            ),
            # One live rental per number.
            models.UniqueConstraint(
                fields=["did"],
                condition=Q(kind="number", status__in=["pending", "active", "hold", "cancelled"]),
                name="subscription_one_live_per_did",
            ),
        ]

    def __str__(self):
        return self.description or f"Subscription {self.pk}"

    @property
    def is_recurring(self):
        return self.billing_type == self.BillingType.RECURRING


class SubscriptionCharge(models.Model):
    """One charged period of a subscription; written with its ledger debit, never twice."""

    class Side(models.TextChoices):
        # The buyer pays its seller: the platform, or the reseller it buys from.
        SALE = "sale", "Sale"
        # The reseller pays the platform for a period it sold to its customer.
        WHOLESALE = "wholesale", "Wholesale"

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="charges")
    # Who is charged: the subscription's account (sale) or its reseller (wholesale).
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="subscription_charges"
    )
    side = models.CharField(max_length=16, choices=Side.choices, default=Side.SALE)
    period_index = models.PositiveIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(null=True, blank=True)  # blank: one-time
    # What the period cost: net (period price, plus the setup fee on period 0), the VAT
    # decided for the buyer at the time of the charge, and ``amount`` = net + VAT, debited.
    net = models.DecimalField(**MONEY, default=0)
    setup_net = models.DecimalField(**MONEY, default=0, help_text="Part of net: setup fee.")
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    vat_country = models.CharField(max_length=2, blank=True)
    reverse_charge = models.BooleanField(default=False)
    # The buyer's VAT identity the decision used (null: charged before it was recorded).
    # The invoice prints it, and a daily invoice bills one identity and regime only.
    buyer_country = models.CharField(max_length=2, null=True, blank=True)
    buyer_vat_number = models.CharField(max_length=32, null=True, blank=True)
    vat_confirmed = models.BooleanField(default=False, help_text="VIES confirmed the number.")
    vat = models.DecimalField(**MONEY, default=0)
    amount = models.DecimalField(**MONEY)
    # Blank only for a free period (amount 0), which writes nothing on the ledger.
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscription_charge",
    )
    # The refund that gave this charge back in full (a registration never completed): such
    # a charge is never invoiced.
    refund_entry = models.OneToOneField(
        "billing.LedgerEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunded_charge",
    )
    created_by_job = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["subscription", "period_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "side"],
                name="subscription_charge_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["subscription", "period_index", "side"],
                name="subscription_charge_index_once",
            ),
            models.CheckConstraint(
                condition=Q(side__in=["sale", "wholesale"]), name="subscription_charge_side_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True) | Q(period_end__gt=F("period_start")),
                name="subscription_charge_period_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="subscription_charge_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount=Round(F("net") + F("vat"), 2), vat__gte=0, setup_net__gte=0)
                & Q(setup_net__lte=F("net")),
                name="subscription_charge_amount_is_net_plus_vat",
            ),
            models.CheckConstraint(
                condition=Q(amount=0) | Q(ledger_entry__isnull=False),
                name="subscription_charge_has_ledger_entry",
            ),
        ]

    def __str__(self):
        return f"{self.subscription_id} period {self.period_index}: {self.amount}"


# The account charged: a reseller's customer never sees the wholesale side.
SubscriptionCharge.tenant_field = "account"


class SubscriptionEvent(StatusChange):
    """One status change of a subscription. Written by
    ``billing.services.subscriptions.subscription_transition`` only; ``from_status`` is blank
    for the start."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="events")
    to_status = models.CharField(max_length=16, choices=Subscription.Status.choices)

    tenant_field = "subscription__account"

    class Meta(StatusChange.Meta):
        ordering = ["subscription", "pk"]

    def __str__(self):
        return f"{self.subscription_id}: {self.from_status or 'start'} → {self.to_status}"
