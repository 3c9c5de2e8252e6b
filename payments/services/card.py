"""Card payments: started by a customer (a Checkout Session on the provider's page) or by
auto top-up (a saved card charged off-session), credited only by the verified webhook.

``card_payment_credit`` is the one place a card payment reaches the balance. It locks the
payment row, so twenty copies of the same event credit once; the ledger's unique
(method, reference) constraint backs that up in the database.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.branding import brand_for_account
from billing.models import LedgerEntry
from billing.services import balance_lock, money, topup_record
from cart.services import cart_holds_extend
from didportal.enqueue import enqueue
from outbox.services import email_queue

from .. import stripe_api
from ..models import CardPayment, seller_for
from ..notifications import money_contacts

logger = logging.getLogger(__name__)

Status = CardPayment.Status
WEBHOOK_JOB = "stripe-webhook"
SAVE_CARD_TASK = "payments.tasks.card_save"


class AmountMismatch(ValidationError):
    """The provider reports an amount or currency other than the one we asked for."""


@dataclass(frozen=True)
class Credit:
    payment: CardPayment
    # False when the payment had been credited already (a replayed or repeated event).
    applied: bool


def topup_minimum(account) -> Decimal:
    """The least a card top-up may be: ``CARD_TOPUP_FIRST_MINIMUM`` until the account's
    first top-up of any kind, then 1.00."""
    if LedgerEntry.objects.filter(account=account, kind=LedgerEntry.Kind.TOPUP).exists():
        return Decimal("1.00")
    return settings.CARD_TOPUP_FIRST_MINIMUM


def card_payment_open(
    *,
    account,
    amount,
    user=None,
    job="",
    purpose=CardPayment.Purpose.TOPUP,
    return_to=CardPayment.ReturnTo.BALANCE,
    save_card=False,
) -> CardPayment:
    """Record a card payment we are about to ask the provider for. The amount is checked
    here (minimum, maximum) and is the only amount the webhook will accept."""
    if user is None and not job:
        raise PermissionDenied("A card payment is opened by a user or a named job.")
    keys = stripe_api.keys_for(seller_for(account))
    if keys is None:
        raise ValidationError("Card payments are not available for this account.")
    amount = money(amount)
    minimum = topup_minimum(account)
    if amount < minimum:
        raise ValidationError(
            {"amount": f"The least you can pay by card is {minimum} {account.currency}."}
        )
    if amount > settings.CARD_TOPUP_MAXIMUM:
        raise ValidationError(
            {
                "amount": f"The most you can pay by card at once is "
                f"{settings.CARD_TOPUP_MAXIMUM} {account.currency}."
            }
        )
    return CardPayment.objects.create(
        account=account,
        seller=seller_for(account),
        purpose=purpose,
        amount=amount,
        currency=account.currency,
        return_to=return_to,
        save_card=save_card,
        created_by=user,
        created_by_job=job,
    )


@transaction.atomic
def card_payment_credit(
    *,
    payment_id,
    amount_cents,
    currency,
    payment_intent_id="",
    charge_id="",
    customer_id="",
    seller=None,
) -> Credit:
    """Credit a card payment the provider says was paid, once.

    ``amount_cents`` and ``currency`` are the provider's and must equal what we created
    (else ``AmountMismatch``, nothing credited). ``seller``, when given, is the account
    whose webhook endpoint received the event: a payment of another seller is unknown
    (``CardPayment.DoesNotExist``). A payment credited already returns ``applied=False``.
    Expired or failed payments are credited too: the money was taken after all.
    """
    payments = CardPayment.objects.all()
    if seller is not None:
        payments = payments.filter(seller=seller)
    account = payments.select_related("account").get(pk=payment_id).account
    # The project's lock order: the balance first, then the payment (as payouts do).
    balance_lock(account)
    payment = payments.select_for_update().get(pk=payment_id)
    payment.account = account
    if payment.status == Status.PAID:
        return Credit(payment, applied=False)
    if str(currency).upper() != payment.currency or stripe_api.to_cents(payment.amount) != int(
        amount_cents
    ):
        raise AmountMismatch(
            f"{payment.reference}: paid {amount_cents} {str(currency).upper()} (cents), "
            f"expected {stripe_api.to_cents(payment.amount)} {payment.currency}."
        )
    entry = topup_record(
        account=payment.account,
        amount=payment.amount,
        method=LedgerEntry.Method.CARD,
        external_reference=payment.reference,
        actor=None,
        job=WEBHOOK_JOB,
        idempotency_key=f"topup:card:{payment.reference}",
        description=f"Card payment {payment.reference}",
    )
    payment.status = Status.PAID
    payment.ledger_entry = entry
    payment.paid_at = timezone.now()
    payment.payment_intent_id = payment_intent_id or payment.payment_intent_id
    payment.charge_id = charge_id or payment.charge_id
    payment.provider_customer_id = customer_id or payment.provider_customer_id
    payment.failure_message = ""
    payment.save()
    _receipt_email_queue(payment, entry)
    if payment.save_card:
        payment_pk = payment.pk
        transaction.on_commit(
            lambda: enqueue(_task(SAVE_CARD_TASK), payment_pk, catch_up="the next top-up"),
            robust=True,
        )
    return Credit(payment, applied=True)


def _task(name):
    from celery import current_app  # noqa: PLC0415

    return current_app.signature(name)


def card_payment_close(*, payment_id, status, message="", seller=None) -> CardPayment | None:
    """Mark an open card payment expired, failed or canceled (a paid one never changes:
    an expiry event arriving after the payment is ignored). Returns it, or None when the
    id is unknown for this seller."""
    if status not in (Status.EXPIRED, Status.FAILED, Status.CANCELED):
        raise ValueError(f"Cannot close a card payment as {status}.")
    with transaction.atomic():
        payments = CardPayment.objects.select_for_update()
        if seller is not None:
            payments = payments.filter(seller=seller)
        payment = payments.filter(pk=payment_id).first()
        if payment is None:
            return None
        if payment.status == Status.OPEN or (
            payment.status == Status.FAILED and status == Status.EXPIRED
        ):
            payment.status = status
            payment.failure_message = message[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
        return payment


def _receipt_email_queue(payment, entry):
    account = payment.account
    recipients = money_contacts(account, also=payment.created_by)
    if not recipients:
        return
    brand = brand_for_account(account)
    email_queue(
        to=sorted(recipients),
        account=account,
        key=f"receipt:card:{payment.reference}",
        subject=f"[{brand.name}] Payment received: {payment.amount} {payment.currency}",
        text=(
            f"We received your card payment of {payment.amount} {payment.currency} "
            f"({payment.reference}) for {account.name}.\n\n"
            f"Your prepaid balance is now {entry.balance_after} {payment.currency}.\n\n"
            f"Receipt: {brand.site_url}/payments/receipts/{entry.pk}/pdf/\n\n"
            "A top-up is not an invoice: VAT is invoiced when numbers are charged.\n"
        ),
    )


@dataclass(frozen=True)
class Started:
    payment: CardPayment
    # Where to send the customer: the provider's hosted payment page.
    redirect_url: str
    # A payment for checkout: until when the cart's numbers are held meanwhile (None when
    # no hold was extended).
    held_until: datetime | None = None


def card_checkout_start(
    *,
    user,
    amount,
    success_url,
    cancel_url,
    return_to=CardPayment.ReturnTo.BALANCE,
    save_card=False,
    now=None,
) -> Started:
    """Open a card payment for the user's own account and create its hosted Checkout
    Session. ``success_url`` and ``cancel_url`` are built by the view from our own routes
    (they may contain ``{payment}`` for the payment's id). A provider failure marks the
    payment failed and raises ``PaymentProviderError`` (its message is for the user).

    An account may leave at most ``CARD_PAYMENTS_UNPAID_PER_HOUR`` payments unpaid in an
    hour (checked under the balance lock, so two tabs cannot both pass the limit). A
    payment for checkout keeps the cart's numbers held meanwhile (``card_hold_until``)."""
    from accounts.permissions import may_fund_balance  # noqa: PLC0415

    if not may_fund_balance(user):
        raise PermissionDenied("You may not pay into this account's balance.")
    with transaction.atomic():
        balance_lock(user.account)
        _check_unpaid_starts(user.account, now or timezone.now())
        payment = card_payment_open(
            account=user.account,
            amount=amount,
            user=user,
            return_to=return_to,
            save_card=save_card,
        )
    keys = stripe_api.keys_for(payment.seller)
    auto = getattr(payment.account, "auto_topup", None) if save_card else None
    try:
        session_id, url = stripe_api.checkout_session_create(
            keys,
            payment=payment,
            success_url=success_url.format(payment=payment.pk),
            cancel_url=cancel_url.format(payment=payment.pk),
            customer_email=user.email,
            save_card=save_card,
            customer_id=auto.provider_customer_id if auto else "",
        )
    except stripe_api.PaymentProviderError as exc:
        card_payment_close(payment_id=payment.pk, status=Status.FAILED, message=exc.message)
        raise
    CardPayment.objects.filter(pk=payment.pk).update(session_id=session_id)
    payment.session_id = session_id
    held_until = None
    if return_to == CardPayment.ReturnTo.CHECKOUT:
        until = card_hold_until(payment)
        if cart_holds_extend(user=user, until=until):
            held_until = until
    return Started(payment, url, held_until)


UNPAID_WINDOW = timedelta(hours=1)


def _check_unpaid_starts(account, now):
    limit = settings.CARD_PAYMENTS_UNPAID_PER_HOUR
    unpaid = list(
        CardPayment.objects.filter(
            account=account, purpose=CardPayment.Purpose.TOPUP, created_at__gt=now - UNPAID_WINDOW
        )
        .exclude(status=Status.PAID)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(unpaid) >= limit:
        # The oldest of the last ``limit`` leaves the hour first.
        free_at = timezone.localtime(unpaid[-1] + UNPAID_WINDOW)
        raise ValidationError(
            f"{limit} card payments were started for this account in the last hour and not "
            f"paid. You can start another at {free_at:%H:%M}, or top up by bank transfer.",
            code="too_many_card_payments",
        )


# A user's card payments for checkout extend its cart's holds once in this time.
CARD_HOLD_ONCE_PER = timedelta(days=1)


def card_hold_until(payment):
    """Until when a cart's numbers stay held while ``payment`` (for the cart) is open:
    ``CARD_PAYMENT_HOLD_MINUTES`` from the first checkout payment its user started in the
    last ``CARD_HOLD_ONCE_PER`` (a day), so starting payment after payment, however
    spaced, never keeps the numbers longer than that once a day."""
    window = timedelta(minutes=settings.CARD_PAYMENT_HOLD_MINUTES)
    first = (
        CardPayment.objects.filter(
            account_id=payment.account_id,
            created_by_id=payment.created_by_id,
            return_to=CardPayment.ReturnTo.CHECKOUT,
            created_at__gt=payment.created_at - CARD_HOLD_ONCE_PER,
            created_at__lte=payment.created_at,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return (first or payment.created_at) + window


CANCELED_MESSAGE = "Canceled on the payment page: nothing was charged."


def card_checkout_cancel(*, user, payment_id) -> CardPayment:
    """The customer came back through the payment page's cancel link: the payment (of the
    user's own account; ``CardPayment.DoesNotExist`` for anybody else's) is marked canceled
    if it is still open, and its hosted session is expired so it can no longer be paid.
    A payment paid meanwhile is left as it is (and a late payment is still credited)."""
    from accounts.permissions import may_fund_balance  # noqa: PLC0415

    if not may_fund_balance(user):
        raise PermissionDenied("You may not pay into this account's balance.")
    payment = CardPayment.objects.get(pk=payment_id, account_id=user.account_id)
    if payment.status != Status.OPEN:
        return payment
    keys = stripe_api.keys_for(payment.seller)
    if payment.session_id and keys is not None:
        try:
            stripe_api.checkout_session_expire(keys, payment.session_id)
        except stripe_api.PaymentProviderError as exc:
            # Stripe expires an unpaid session by itself; ours is closed either way.
            logger.warning("Could not expire %s: %s", payment.session_id, exc.message)
    return card_payment_close(
        payment_id=payment.pk, status=Status.CANCELED, message=CANCELED_MESSAGE
    )
