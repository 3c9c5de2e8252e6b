"""Payments: what a provider or a bank told us, and what we did with the balance.

Money moves only through the ledger (``billing.services``); these rows say why. Each row
that credits or debits a balance points at its ledger entry (one-to-one), and each
provider or bank reference is unique, so a payment is booked once however often we hear
of it.

The seller is who collects the money: the platform for its direct customers and its
resellers, a reseller for its own customers (``seller_for``).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing.models import MONEY


def seller_for(account):
    """Who collects ``account``'s money: its parent (the platform, or the reseller a
    customer buys from). The platform collects its own (it never tops up)."""
    return account.parent if account.parent_id is not None else account


def collector_of(user):
    """The account whose collected money ``user`` looks after (their own, when their role
    ``collects_money``), else None."""
    from accounts.permissions import collects_money  # noqa: PLC0415

    return user.account if collects_money(user) else None


class CardPayment(models.Model):
    """One card payment we asked a provider for: a Checkout Session the customer pays on
    the provider's page, or an off-session charge of a saved card (auto top-up).

    The balance is credited only when the provider's signed webhook says it was paid, and
    only for the amount and currency stored here (never the browser's). ``ledger_entry``
    is the top-up it credited (its ledger reference is ``CP-<pk>``, unique per method).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    class Purpose(models.TextChoices):
        TOPUP = "topup", "Top-up"
        AUTO_TOPUP = "auto_topup", "Auto top-up"

    class ReturnTo(models.TextChoices):
        BALANCE = "balance", "Balance page"
        CHECKOUT = "checkout", "Checkout"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="card_payments"
    )
    # Whose Stripe account took the money (the platform's, or a reseller's own keys).
    seller = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16, default="stripe")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.TOPUP)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    return_to = models.CharField(max_length=16, choices=ReturnTo.choices, default=ReturnTo.BALANCE)
    # Keep the card for auto top-up (the provider saves it; ``AutoTopup`` records it).
    save_card = models.BooleanField(default=False)
    provider_customer_id = models.CharField(max_length=255, blank=True)
    # Provider ids: the Checkout Session (cs_…), the PaymentIntent (pi_…) and its charge.
    session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    charge_id = models.CharField(max_length=255, blank=True)
    # Card refunds seen so far (ours and those made in the provider's dashboard): a refund
    # event debits only what it adds to this.
    refunded_amount = models.DecimalField(**MONEY, default=Decimal("0.00"))
    failure_message = models.CharField(max_length=500, blank=True)
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by_job = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["account", "-id"], name="payments_card_account_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="card_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="card_payment_refunds_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(ledger_entry__isnull=False, paid_at__isnull=False),
                name="card_payment_paid_has_credit",
            ),
            models.CheckConstraint(
                condition=Q(created_by__isnull=False) | ~Q(created_by_job=""),
                name="card_payment_has_author",
            ),
        ]

    def __str__(self):
        return f"Card payment CP-{self.pk} {self.amount} {self.currency} ({self.status})"

    @property
    def reference(self):
        return f"CP-{self.pk}"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded_amount if self.status == self.Status.PAID else Decimal(0)


class PaymentEvent(models.Model):
    """Every webhook call received, applied or not: the log finance reads when a payment
    looks wrong. Refused calls (bad signature, wrong amount, unknown session, stale) are
    kept with the reason; the raw body is not (it may carry personal data)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied"
        DUPLICATE = "duplicate", "Already applied"
        IGNORED = "ignored", "Ignored (not an event we act on)"
        REFUSED = "refused", "Refused"

    seller = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=16, default="stripe")
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)
    payment = models.ForeignKey(
        CardPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["event_id"], name="payments_event_id"),
            models.Index(fields=["-received_at"], name="payments_event_recent"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id}: {self.outcome}"


class BalanceClaim(models.Model):
    """Money an account owes after a card refund or dispute took back more than was left
    on its balance: the balance goes to 0 (never below) and the rest is claimed here for
    finance to collect or write off."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="balance_claims"
    )
    amount = models.DecimalField(**MONEY)
    payment = models.ForeignKey(
        CardPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    reason = models.CharField(max_length=255)
    # A claim is made once per cause (e.g. ``refund:<charge>:<refunded so far>``).
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settlement_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="balance_claim_amount_positive"),
        ]

    def __str__(self):
        return f"Claim {self.amount} on {self.account_id}"


class Payout(models.Model):
    """Unused balance paid back to a customer: asked for by the customer (``requested``)
    or started by finance, paid to the original card through the provider when possible,
    else by bank transfer. The ledger debit (kind ``payout``) is written in the same
    transaction that marks it paid."""

    class Method(models.TextChoices):
        CARD = "card", "To the card paid with"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PAID = "paid", "Paid"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="payouts"
    )
    seller = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    card_payment = models.ForeignKey(
        CardPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="payouts"
    )
    provider_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    bank_reference = models.CharField(max_length=100, blank=True)
    # What the customer wrote (where to send a bank payout, why).
    customer_note = models.CharField(max_length=500, blank=True)
    # What finance wrote (why declined, the transfer made).
    note = models.CharField(max_length=500, blank=True)
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(ledger_entry__isnull=False) & ~Q(method="")),
                name="payout_paid_has_debit",
            ),
            # One open request per account: a second one would ask for the same money.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="requested"),
                name="payout_one_open_request",
            ),
        ]

    def __str__(self):
        return f"Payout {self.amount} to {self.account_id} ({self.status})"


class AutoTopup(models.Model):
    """A saved card that tops the balance up by ``amount`` when it falls under
    ``threshold`` before a renewal run. At most ``AUTO_TOPUP_ATTEMPTS_PER_DAY`` charges
    are tried a day; each failure e-mails the account's admins."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.PROTECT, primary_key=True, related_name="auto_topup"
    )
    enabled = models.BooleanField(default=False)
    threshold = models.DecimalField(**MONEY, default=Decimal("20.00"))
    amount = models.DecimalField(**MONEY, default=Decimal("50.00"))
    # The saved card at the seller's provider: customer and payment method ids, and what
    # to show (brand, last four digits, expiry).
    provider_customer_id = models.CharField(max_length=255, blank=True)
    provider_payment_method_id = models.CharField(max_length=255, blank=True)
    card_label = models.CharField(max_length=100, blank=True)
    attempts_on = models.DateField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_message = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="auto_topup_amount_positive"),
            models.CheckConstraint(
                condition=Q(threshold__gte=0), name="auto_topup_threshold_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(enabled=False) | ~Q(provider_payment_method_id=""),
                name="auto_topup_enabled_has_card",
            ),
        ]

    def __str__(self):
        return f"Auto top-up of {self.account_id}"


class BankStatement(models.Model):
    """A bank statement finance uploaded (CAMT.053 XML or CSV). Its credit lines are
    matched to accounts by payment reference; the same file uploaded again adds nothing."""

    class Format(models.TextChoices):
        CAMT053 = "camt053", "CAMT.053 (XML)"
        CSV = "csv", "CSV"

    seller = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=16, choices=Format.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    lines_read = models.PositiveIntegerField(default=0)
    lines_new = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        return f"Statement {self.filename}"


class BankStatementLine(models.Model):
    """One credit on a bank statement. Unique per seller by the bank's transaction id, so
    the same line is never booked twice however many statements repeat it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Matched, to confirm"
        UNMATCHED = "unmatched", "Unmatched"
        BOOKED = "booked", "Booked"
        IGNORED = "ignored", "Ignored"

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    seller = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    bank_transaction_id = models.CharField(max_length=100)
    booking_date = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    payer_name = models.CharField(max_length=200, blank=True)
    remittance = models.CharField(max_length=500, blank=True)
    # The RF reference found in the remittance text, when one with a valid checksum was.
    reference = models.CharField(max_length=35, blank=True)
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_lines",
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    ledger_entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["booking_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "bank_transaction_id"], name="bank_line_once_per_seller"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_line_credit_only"),
            models.CheckConstraint(
                condition=~Q(status="booked")
                | Q(ledger_entry__isnull=False, account__isnull=False),
                name="bank_line_booked_has_credit",
            ),
            models.CheckConstraint(
                condition=~Q(status="proposed") | Q(account__isnull=False),
                name="bank_line_proposed_has_account",
            ),
        ]

    def __str__(self):
        return f"{self.bank_transaction_id} {self.amount} {self.currency}"

    @property
    def reference_display(self):
        """The RF reference found, in groups of four."""
        from stdnum import iso11649  # noqa: PLC0415

        return iso11649.format(self.reference) if self.reference else ""


class StripeKeys(models.Model):
    """A reseller's own Stripe account, so its customers pay the reseller by card. The
    secret key and webhook secret are stored encrypted (``didportal.crypto``); the
    platform's keys come from settings. ``webhook_token`` names the reseller's webhook
    URL without revealing its id order."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.PROTECT, primary_key=True, related_name="stripe_keys"
    )
    publishable_key = models.CharField(max_length=255)
    secret_key_encrypted = models.TextField()
    webhook_secret_encrypted = models.TextField()
    webhook_token = models.CharField(max_length=64, unique=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed the keys and when; the secrets stay out of the history even encrypted
    # (the change reason says which of them were replaced).
    history = HistoricalRecords(
        excluded_fields=["secret_key_encrypted", "webhook_secret_encrypted"]
    )

    class Meta:
        verbose_name_plural = "Stripe keys"

    def __str__(self):
        return f"Stripe keys of {self.account_id}"
