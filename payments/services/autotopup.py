"""Auto top-up: a card saved on a card top-up, charged off-session when the balance falls
under the account's threshold, before the renewal run.

The run (``auto_topups_run``) opens one ``CardPayment`` per account that needs money, in
the same transaction that locks the account's ``AutoTopup`` row and counts the day's
attempts, and only then asks the provider to charge the card (idempotency key per
payment). Two runs at once skip each other's locked rows, and an open auto top-up payment
blocks another, so a card is charged once per need. The balance is credited only by the
provider's webhook, as for any card payment.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.models import Account
from billing.models import Balance
from outbox.services import email_queue

from .. import stripe_api
from ..models import AutoTopup, CardPayment, seller_for
from ..notifications import money_contacts
from . import card

logger = logging.getLogger(__name__)

JOB = "auto-top-up"
Status = CardPayment.Status
Purpose = CardPayment.Purpose
# The least an auto top-up may be (the card lane's first-top-up minimum applies on top).
AMOUNT_MINIMUM = Decimal("1.00")
# A payment opened but whose charge call never returned (the worker died) is charged
# again after this long, with the same idempotency key: the provider answers as before.
REDRIVE_AFTER = timedelta(minutes=10)
# Stripe keeps idempotency keys for 24 hours: an unanswered payment older than this is
# closed as failed instead (a late webhook still credits it).
GIVE_UP_AFTER = timedelta(hours=23)
# Stripe retries a webhook for three days: an auto top-up charged but still unconfirmed after
# that will not hear from it. It is closed as failed, so it stops blocking the next one (a
# webhook arriving after all still credits it: a failed payment is credited when paid).
UNCONFIRMED_AFTER = timedelta(days=3)
# Paid card top-ups that asked to save the card are looked at again for this long when
# their save task was lost.
SAVE_CATCH_UP = timedelta(days=7)
CHARGEABLE_INTENT = ("succeeded", "processing")


# --- saving the card --------------------------------------------------------------------


def _get(obj, name, default=""):
    try:
        value = obj[name]
    except (KeyError, TypeError, AttributeError):
        return default
    return default if value is None else value


def card_label(method) -> str:
    """ "Visa •••• 4242, expires 12/2030" from a provider's payment method."""
    details = _get(method, "card", {}) or {}
    brand = str(_get(details, "brand", "card")).replace("_", " ").title()
    last4 = _get(details, "last4", "")
    month, year = _get(details, "exp_month", ""), _get(details, "exp_year", "")
    label = f"{brand} •••• {last4}" if last4 else brand
    if month and year:
        label += f", expires {int(month):02d}/{year}"
    return label[:100]


def card_save(*, payment_id) -> AutoTopup | None:
    """Record on the account's ``AutoTopup`` the card that paid ``payment_id`` (a paid card
    top-up with ``save_card``), creating it disabled if missing. Idempotent; a payment
    older than the account's latest saving one changes nothing (that one's card wins).
    Returns the AutoTopup, or None when there is nothing to save.
    Raises ``PaymentProviderError`` when the provider cannot be asked (retry later)."""
    payment = CardPayment.objects.select_related("account", "seller").filter(pk=payment_id).first()
    if payment is None or payment.status != Status.PAID or not payment.save_card:
        return None
    if _newer_saving_payment(payment).exists():
        return None
    keys = stripe_api.keys_for(payment.seller)
    if keys is None or not payment.payment_intent_id:
        logger.warning("cannot save the card of %s: no keys or no payment intent", payment)
        return None
    intent = stripe_api.payment_intent_retrieve(keys, payment.payment_intent_id)
    method_id = _get(intent, "payment_method", "")
    if not isinstance(method_id, str):  # expanded by the provider
        method_id = _get(method_id, "id", "")
    customer_id = _get(intent, "customer", "") or payment.provider_customer_id
    if not isinstance(customer_id, str):
        customer_id = _get(customer_id, "id", "")
    if not (method_id and customer_id):
        logger.warning("cannot save the card of %s: no customer or payment method", payment)
        return None
    label = card_label(stripe_api.payment_method_retrieve(keys, method_id))
    with transaction.atomic():
        auto = _locked_or_created(payment.account)
        if _newer_saving_payment(payment).exists():
            return auto
        auto.provider_customer_id = customer_id
        auto.provider_payment_method_id = method_id
        auto.card_label = label
        # Saved even when unchanged: ``updated_at`` after the payment marks it done.
        auto.save()
    return auto


def _newer_saving_payment(payment):
    return CardPayment.objects.filter(
        account=payment.account_id, status=Status.PAID, save_card=True, pk__gt=payment.pk
    )


def _locked_or_created(account) -> AutoTopup:
    AutoTopup.objects.get_or_create(account=account)
    return AutoTopup.objects.select_for_update().get(account=account)


def card_save_pending(account) -> CardPayment | None:
    """The account's latest paid card top-up that asked to save its card, if that card is
    not recorded yet (its save task was lost or failed)."""
    payment = (
        CardPayment.objects.filter(
            account=account,
            status=Status.PAID,
            save_card=True,
            paid_at__gte=timezone.now() - SAVE_CATCH_UP,
        )
        .order_by("-pk")
        .first()
    )
    if payment is None:
        return None
    # Any change after the payment (the card saved, or removed, or settings saved on the
    # page, which catches up first) means there is nothing left to save.
    auto = AutoTopup.objects.filter(account=account).first()
    if auto is None or auto.updated_at < payment.paid_at:
        return payment
    return None


def card_save_catch_up(account) -> AutoTopup | None:
    """Record the account's card now if its save was lost (the auto top-up page calls
    this); a provider failure is logged and left to the periodic run."""
    payment = card_save_pending(account)
    if payment is None:
        return None
    try:
        return card_save(payment_id=payment.pk)
    except stripe_api.PaymentProviderError as exc:
        logger.warning("could not save the card of %s: %s", payment, exc.message)
        return None


def cards_save_pending() -> int:
    """Catch up on saves whose task was lost: the periodic run calls this. Returns how
    many cards were recorded."""
    account_ids = (
        CardPayment.objects.filter(
            status=Status.PAID,
            save_card=True,
            paid_at__gte=timezone.now() - SAVE_CATCH_UP,
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    return sum(
        card_save_catch_up(account) is not None
        for account in Account.objects.filter(pk__in=list(account_ids))
    )


# --- settings -------------------------------------------------------------------------


def amount_minimum(account) -> Decimal:
    return max(AMOUNT_MINIMUM, card.topup_minimum(account))


def auto_topup_configure(*, user, enabled, threshold, amount) -> AutoTopup:
    """Save the user's own account's auto top-up settings; enabling needs a saved card."""
    from accounts.permissions import may_fund_balance  # noqa: PLC0415

    if not may_fund_balance(user):
        raise ValidationError("You may not pay into this account's balance.")
    account = user.account
    if not stripe_api.card_payments_enabled_for(account):
        raise ValidationError("Card payments are not available for this account.")
    minimum = amount_minimum(account)
    errors = {}
    if amount < minimum:
        errors["amount"] = f"The least an auto top-up can be is {minimum} {account.currency}."
    elif amount > settings.CARD_TOPUP_MAXIMUM:
        errors["amount"] = (
            f"The most an auto top-up can be is {settings.CARD_TOPUP_MAXIMUM} {account.currency}."
        )
    if threshold < 0 or threshold > settings.CARD_TOPUP_MAXIMUM:
        errors["threshold"] = (
            f"The threshold must be between 0.00 and {settings.CARD_TOPUP_MAXIMUM} "
            f"{account.currency}."
        )
    with transaction.atomic():
        auto = _locked_or_created(account)
        if enabled and not auto.provider_payment_method_id:
            errors["enabled"] = "Save a card first: tick “save card” on your next card top-up."
        if errors:
            raise ValidationError(errors)
        auto.enabled = enabled
        auto.threshold = threshold
        auto.amount = amount
        auto.save()
    return auto


def auto_topup_card_remove(*, user) -> AutoTopup | None:
    """Forget the saved card of the user's own account (auto top-up is turned off) and
    detach it at the provider. Returns the AutoTopup, or None when none exists."""
    from accounts.permissions import may_fund_balance  # noqa: PLC0415

    if not may_fund_balance(user):
        raise ValidationError("You may not pay into this account's balance.")
    with transaction.atomic():
        auto = AutoTopup.objects.select_for_update().filter(account=user.account).first()
        if auto is None or not auto.provider_payment_method_id:
            return auto
        method_id = auto.provider_payment_method_id
        auto.enabled = False
        auto.provider_payment_method_id = ""
        auto.card_label = ""
        auto.save()
    keys = stripe_api.keys_for(seller_for(user.account))
    if keys is not None:
        try:
            stripe_api.payment_method_detach(keys, method_id)
        except stripe_api.PaymentProviderError as exc:
            # We never charge it again either way; the provider keeps it until then.
            logger.warning("could not detach %s at the provider: %s", method_id, exc.message)
    return auto


# --- the run ------------------------------------------------------------------------------


@dataclass
class RunCounts:
    charged: int = 0
    declined: int = 0
    skipped: int = 0
    redriven: int = 0
    cards_saved: int = 0
    payments: list = field(default_factory=list)

    def as_dict(self):
        return {
            "charged": self.charged,
            "declined": self.declined,
            "skipped": self.skipped,
            "redriven": self.redriven,
            "cards_saved": self.cards_saved,
        }


def _balance_subquery():
    return Coalesce(
        Subquery(Balance.objects.filter(account=OuterRef("account")).values("amount")[:1]),
        Value(Decimal("0.00")),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def due_auto_topups():
    """Enabled auto top-ups of active accounts with a saved card whose balance is under
    the threshold (keys, attempts and open payments are checked under the lock)."""
    return (
        AutoTopup.objects.filter(enabled=True, account__status=Account.Status.ACTIVE)
        .exclude(provider_payment_method_id="")
        .annotate(balance=_balance_subquery())
        .filter(balance__lt=F("threshold"))
        .order_by("pk")
    )


def attempts_today(auto, today) -> int:
    return auto.attempts if auto.attempts_on == today else 0


def open_auto_payment(account_id):
    return CardPayment.objects.filter(
        account=account_id, purpose=Purpose.AUTO_TOPUP, status=Status.OPEN
    ).first()


def auto_topups_run(now=None) -> dict:
    """One pass: record cards whose save was lost, charge again the payments whose charge
    call never returned, then charge each account that needs it. Safe to run twice or
    concurrently. Returns counts."""
    now = now or timezone.now()
    counts = RunCounts()
    counts.cards_saved = cards_save_pending()
    _redrive_unanswered(now, counts)
    _close_unconfirmed(now)
    for account_id in list(due_auto_topups().values_list("account_id", flat=True)):
        payment = _open(account_id, now)
        if payment is None:
            counts.skipped += 1
            continue
        counts.payments.append(payment.pk)
        if _charge(payment, now):
            counts.charged += 1
        else:
            counts.declined += 1
    return counts.as_dict()


def _open(account_id, now) -> CardPayment | None:
    """Lock the account's auto top-up, check again that it needs a charge today, count
    the attempt and open the payment: all in one transaction, so a concurrent run either
    skips the locked row or finds the open payment."""
    today = timezone.localdate(now)
    with transaction.atomic():
        auto = (
            AutoTopup.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("account")
            .filter(pk=account_id, enabled=True)
            .exclude(provider_payment_method_id="")
            .first()
        )
        if auto is None:
            return None
        account = auto.account
        if account.status != Account.Status.ACTIVE:
            return None
        if stripe_api.keys_for(seller_for(account)) is None:
            return None
        balance = Balance.objects.filter(account=account).values_list("amount", flat=True).first()
        if (balance or Decimal("0.00")) >= auto.threshold:
            return None
        if open_auto_payment(account.pk) is not None:
            return None
        if attempts_today(auto, today) >= settings.AUTO_TOPUP_ATTEMPTS_PER_DAY:
            return None
        try:
            payment = card.card_payment_open(
                account=account,
                amount=auto.amount,
                job=JOB,
                purpose=Purpose.AUTO_TOPUP,
            )
        except ValidationError as exc:
            # Settings that no longer fit the limits: say so on the settings page.
            auto.last_failure_at = now
            auto.last_failure_message = " ".join(exc.messages)[:500]
            auto.save(update_fields=["last_failure_at", "last_failure_message", "updated_at"])
            return None
        auto.attempts = attempts_today(auto, today) + 1
        auto.attempts_on = today
        auto.save(update_fields=["attempts", "attempts_on", "updated_at"])
    return payment


def _charge(payment, now) -> bool:
    """Ask the provider to charge the saved card for ``payment`` (idempotency key per
    payment). True when the charge went through or is processing (the webhook credits
    it); False when it was declined (the payment is closed as failed, the failure
    recorded and e-mailed)."""
    auto = AutoTopup.objects.get(account=payment.account_id)
    if not auto.provider_payment_method_id:  # the card was removed meanwhile
        card.card_payment_close(
            payment_id=payment.pk, status=Status.CANCELED, message="The saved card was removed."
        )
        return False
    keys = stripe_api.keys_for(payment.seller)
    if keys is None:
        return _fail(payment, "Card payments are no longer set up for this account.", now)
    try:
        intent = stripe_api.payment_intent_off_session(
            keys,
            payment=payment,
            customer_id=auto.provider_customer_id,
            payment_method_id=auto.provider_payment_method_id,
        )
    except stripe_api.PaymentProviderError as exc:
        return _fail(payment, exc.message, now)
    intent_id = _get(intent, "id", "")
    if intent_id:
        # The webhook may have recorded it first; it is the same id then.
        CardPayment.objects.filter(pk=payment.pk, payment_intent_id__isnull=True).update(
            payment_intent_id=intent_id
        )
    status = _get(intent, "status", "")
    if status not in CHARGEABLE_INTENT:
        return _fail(payment, "The card needs the cardholder to confirm this payment.", now)
    return True


def _fail(payment, message, now) -> bool:
    with transaction.atomic():
        closed = card.card_payment_close(
            payment_id=payment.pk, status=Status.FAILED, message=message
        )
        if closed is not None:
            auto_topup_failure_record(closed, now=now)
    return False


def auto_topup_failure_record(payment, *, now=None) -> None:
    """Show a failed auto top-up on the settings page and e-mail the account's admins
    (once per payment). Called when the charge is declined, and by the webhook when the
    provider reports a failure later (``payment_intent.payment_failed``)."""
    if payment.purpose != Purpose.AUTO_TOPUP or payment.status != Status.FAILED:
        return  # paid meanwhile (a late webhook), or not an auto top-up: nothing to report
    message = payment.failure_message or "The card payment failed."
    with transaction.atomic():
        auto = AutoTopup.objects.select_for_update().filter(account=payment.account_id).first()
        if auto is None:
            return
        auto.last_failure_at = now or timezone.now()
        auto.last_failure_message = message[:500]
        auto.save(update_fields=["last_failure_at", "last_failure_message", "updated_at"])
        _failure_email_queue(payment, auto, message)


def _close_unconfirmed(now):
    unconfirmed = CardPayment.objects.filter(
        purpose=Purpose.AUTO_TOPUP,
        status=Status.OPEN,
        payment_intent_id__isnull=False,
        created_at__lt=now - UNCONFIRMED_AFTER,
    ).values_list("pk", flat=True)
    for payment_id in list(unconfirmed):
        _fail(
            CardPayment(pk=payment_id),
            "The card processor never confirmed this charge; if it was taken, your balance "
            "is credited when it does.",
            now,
        )


def _redrive_unanswered(now, counts):
    """Open auto top-up payments with no PaymentIntent: the run that opened them died
    before the provider answered. Charge them again with the same idempotency key (the
    provider replays its first answer), or give up on them after a day."""
    stale = CardPayment.objects.filter(
        purpose=Purpose.AUTO_TOPUP,
        status=Status.OPEN,
        payment_intent_id__isnull=True,
        created_at__lt=now - REDRIVE_AFTER,
    ).select_related("account", "seller")
    for payment in stale:
        if payment.created_at < now - GIVE_UP_AFTER:
            card.card_payment_close(
                payment_id=payment.pk,
                status=Status.FAILED,
                message="The card processor never answered this charge.",
            )
            continue
        counts.redriven += 1
        _charge(payment, now)


def _failure_email_queue(payment, auto, message):
    account = payment.account
    recipients = money_contacts(account)
    if not recipients:
        return
    brand = brand_for_account(account)
    tried = attempts_today(auto, timezone.localdate())
    left = max(0, settings.AUTO_TOPUP_ATTEMPTS_PER_DAY - tried)
    retry = (
        "We will try again at the next renewal run today."
        if left
        else "We will not try again today; the next try is tomorrow."
    )
    email_queue(
        to=recipients,
        account=account,
        key=f"auto-topup-failed:{payment.reference}",
        subject=f"[{brand.name}] Auto top-up failed: {payment.amount} {payment.currency}",
        text=(
            f"Your auto top-up of {payment.amount} {payment.currency} ({payment.reference}) "
            f"for {account.name} could not be charged to {auto.card_label or 'your saved card'}."
            f"\n\nReason: {message}\n\n{retry}\n\n"
            "Numbers whose renewal cannot be paid go on hold. Top up by card or bank "
            f"transfer, or change the card: {brand.site_url}/payments/auto-top-up/\n"
        ),
    )
