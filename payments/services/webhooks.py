"""Stripe's webhook calls: verified, logged, and applied at most once.

``webhook_receive`` is the whole of it: the signature is checked with the seller's
endpoint secret (and its timestamp with the tolerance, so an old event replayed is
refused), the event is applied by type, and one ``PaymentEvent`` row records what came
and what we did. The balance moves only here (through ``card.card_payment_credit``,
and ``_take_back`` for refunds and disputes).

Everything read from an event is checked for type and size before use: a signed body is
still only data, and no body may turn into a server error.

A refund or dispute locks the account's balance, then the ``CardPayment`` row (the
project's lock order; payouts take the same). A payout holds both while it refunds at
Stripe and books its own debit, so the ``charge.refunded`` that follows waits, then finds
``refunded_amount`` already raised and debits nothing more.
"""

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.branding import brand_for_account
from accounts.throttles import throttle_hit
from billing.models import LedgerEntry
from billing.services import balance_lock, payout_record
from outbox.services import email_queue

from .. import stripe_api
from ..models import BalanceClaim, CardPayment, PaymentEvent, collector_of
from ..notifications import money_contacts
from . import autotopup, card

logger = logging.getLogger(__name__)
Outcome = PaymentEvent.Outcome


@dataclass(frozen=True)
class Result:
    outcome: str
    detail: str = ""
    payment: CardPayment | None = None

    @property
    def refused(self):
        return self.outcome == Outcome.REFUSED


class Refused(Exception):
    def __init__(self, detail, payment=None):
        super().__init__(detail)
        self.detail = detail
        self.payment = payment


def _get(obj, name, default=None):
    try:
        value = obj[name]
    except (KeyError, TypeError, IndexError, AttributeError):
        return default
    return default if value is None else value


def _text(obj, name, *, limit=255):
    """A string field of the event, or "" when absent, not a string, too long, or not
    storable (a NUL character, a lone surrogate)."""
    value = _get(obj, name, "")
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return ""
    try:
        value.encode()
    except UnicodeEncodeError:
        return ""
    return value


def _cents(obj, name):
    """An amount in cents: a non-negative integer, else the event is refused."""
    value = _get(obj, name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**14:
        raise Refused(f"the event's {name} is not an amount in cents")
    return value


_PK = re.compile(r"[0-9]{1,18}")


def _payment_id(obj):
    """Our payment's id, from the metadata we set (or the client reference ``CP-<id>``)."""
    value = _text(_get(obj, "metadata", {}), "payment_id", limit=18)
    if not value:
        reference = _text(obj, "client_reference_id", limit=21)
        value = reference[3:] if reference.startswith("CP-") else ""
    if not _PK.fullmatch(value):
        raise Refused("unknown payment: the event names none of ours")
    return int(value)


def _known(payment_id, seller, *, session_id="", payment_intent_id=""):
    """The payment the event names, if it is this seller's and the provider ids agree."""
    payment = CardPayment.objects.filter(pk=payment_id, seller=seller).first()
    if payment is None:
        raise Refused(f"unknown payment CP-{payment_id}")
    if session_id and payment.session_id and payment.session_id != session_id:
        raise Refused(f"session {session_id} is not the one created for CP-{payment_id}", payment)
    if (
        payment_intent_id
        and payment.payment_intent_id
        and payment.payment_intent_id != payment_intent_id
    ):
        raise Refused(f"payment intent {payment_intent_id} is not CP-{payment_id}'s", payment)
    if session_id and not payment.session_id and payment.purpose == CardPayment.Purpose.TOPUP:
        raise Refused(f"CP-{payment_id} has no checkout session", payment)
    return payment


def _credit(seller, payment, *, amount_cents, currency, payment_intent_id, customer_id=""):
    try:
        credit = card.card_payment_credit(
            payment_id=payment.pk,
            amount_cents=amount_cents,
            currency=currency,
            payment_intent_id=payment_intent_id,
            customer_id=customer_id,
            seller=seller,
        )
    except card.AmountMismatch as exc:
        raise Refused(f"wrong amount: {exc.messages[0]}", payment) from exc
    if credit.applied:
        return Result(Outcome.APPLIED, f"credited {payment.amount} {payment.currency}", payment)
    return Result(Outcome.DUPLICATE, "credited before", payment)


def _session_completed(seller, session):
    if _get(session, "mode") != "payment" or _get(session, "payment_status") != "paid":
        return Result(Outcome.IGNORED, "session not paid (yet)")
    payment = _known(_payment_id(session), seller, session_id=_text(session, "id"))
    return _credit(
        seller,
        payment,
        amount_cents=_cents(session, "amount_total"),
        currency=_text(session, "currency", limit=3),
        payment_intent_id=_text(session, "payment_intent"),
        customer_id=_text(session, "customer"),
    )


def _intent_succeeded(seller, intent):
    payment = _known(_payment_id(intent), seller, payment_intent_id=_text(intent, "id"))
    return _credit(
        seller,
        payment,
        amount_cents=_cents(intent, "amount_received"),
        currency=_text(intent, "currency", limit=3),
        payment_intent_id=_text(intent, "id"),
        customer_id=_text(intent, "customer"),
    )


def _closed(seller, obj, status, message):
    payment = card.card_payment_close(
        payment_id=_payment_id(obj), status=status, message=message, seller=seller
    )
    if payment is None:
        raise Refused("unknown payment")
    if payment.status != status:
        return Result(Outcome.DUPLICATE, f"payment is {payment.status}; left as it is", payment)
    return Result(Outcome.APPLIED, f"marked {status}", payment)


def _session_expired(seller, session):
    return _closed(seller, session, CardPayment.Status.EXPIRED, "The payment page expired.")


def _intent_failed(seller, intent):
    error = _get(intent, "last_payment_error", {})
    message = _text(error, "message", limit=500) or "The card payment failed."
    result = _closed(seller, intent, CardPayment.Status.FAILED, message)
    if result.outcome == Outcome.APPLIED:
        autotopup.auto_topup_failure_record(result.payment)  # e-mails, if an auto top-up
    return result


def _paid_payment(seller, obj):
    """The paid payment a charge or dispute belongs to (by its PaymentIntent, else by our
    metadata), locked after its account's balance: the project's lock order, the one the
    payouts (``services.refunds``) take too."""
    intent_id = _text(obj, "payment_intent")
    payments = CardPayment.objects.filter(seller=seller)
    payment = payments.filter(payment_intent_id=intent_id).first() if intent_id else None
    if payment is None:
        payment = payments.filter(pk=_payment_id(obj)).first()
        if payment is None:
            raise Refused("unknown payment: the charge is none of ours")
        if intent_id and payment.payment_intent_id and payment.payment_intent_id != intent_id:
            raise Refused(f"payment intent {intent_id} is not {payment.reference}'s", payment)
    if payment.status != CardPayment.Status.PAID:
        # Refused, so Stripe sends it again: by then the credit will have come. (A paid
        # payment stays paid, so this unlocked look is safe.)
        raise Refused(f"{payment.reference} is not credited (yet); nothing to take back", payment)
    balance_lock(payment.account)
    return CardPayment.objects.select_for_update().select_related("account").get(pk=payment.pk)


def _charge_payment(seller, charge):
    """``_paid_payment``, with the charge's amount and currency checked against it."""
    payment = _paid_payment(seller, charge)
    amount = _cents(charge, "amount")
    currency = _text(charge, "currency", limit=3).upper()
    if (amount, currency) != (stripe_api.to_cents(payment.amount), payment.currency):
        raise Refused(
            f"wrong amount: the charge is {amount} {currency} (cents), {payment.reference} "
            f"was {stripe_api.to_cents(payment.amount)} {payment.currency}",
            payment,
        )
    return payment


@dataclass(frozen=True)
class TakenBack:
    debited: Decimal
    claimed: Decimal


def _take_back(payment, amount, *, key, why):
    """Take ``amount`` back from the payer's balance: what the balance holds is debited
    (a payout), the rest becomes a ``BalanceClaim``; the balance never goes below zero.
    The caller holds the balance's and the payment's row locks (``_paid_payment``)."""
    account = payment.account
    balance = balance_lock(account)
    debited = min(max(balance.amount, Decimal("0.00")), amount)
    claimed = amount - debited
    if debited > 0:
        payout_record(
            account=account,
            amount=debited,
            idempotency_key=f"{key}:debit",
            description=f"{why} ({payment.reference})",
            reference=("card_payment", payment.pk),
            job=card.WEBHOOK_JOB,
        )
    if claimed > 0:
        BalanceClaim.objects.get_or_create(
            key=key,
            defaults={
                "account": account,
                "amount": claimed,
                "payment": payment,
                "reason": f"{why} ({payment.reference}): more than the balance held",
            },
        )
    _taken_back_email_queue(payment, key=key, why=why, debited=debited, claimed=claimed)
    return TakenBack(debited, claimed)


def _taken_back_email_queue(payment, *, key, why, debited, claimed):
    account = payment.account
    recipients = money_contacts(account)
    if not recipients:
        return
    brand = brand_for_account(account)
    currency = payment.currency
    lines = [f"{why}: {debited + claimed} {currency} of card payment {payment.reference}."]
    if debited:
        lines.append(f"{debited} {currency} was taken from your prepaid balance.")
    if claimed:
        lines.append(
            f"Your balance did not hold it all: {claimed} {currency} is owed, and our "
            "finance team will contact you about it."
        )
    lines.append(f"Statement: {brand.site_url}/billing/balance/")
    email_queue(
        to=recipients,
        account=account,
        key=f"taken-back:{key}",
        subject=f"[{brand.name}] {why}: {debited + claimed} {currency}",
        text="\n\n".join(lines) + "\n",
    )


def _charge_refunded(seller, charge):
    payment = _charge_payment(seller, charge)
    charge_id = _text(charge, "id", limit=100)
    refunded_cents = _cents(charge, "amount_refunded")
    if refunded_cents > stripe_api.to_cents(payment.amount):
        raise Refused(f"refunded {refunded_cents} cents, more than {payment.reference}", payment)
    refunded = stripe_api.from_cents(refunded_cents)
    increase = refunded - payment.refunded_amount
    if increase <= 0:
        return Result(
            Outcome.DUPLICATE,
            f"refunds of {payment.refunded_amount} {payment.currency} booked before",
            payment,
        )
    taken = _take_back(
        payment,
        increase,
        # Unique per payment, charge and refunded total: each new refund books once.
        key=f"refund:{payment.reference}:{charge_id}:{refunded_cents}",
        why="Card payment refunded",
    )
    payment.refunded_amount = refunded
    payment.charge_id = payment.charge_id or charge_id
    payment.save(update_fields=["refunded_amount", "charge_id", "updated_at"])
    detail = f"refund of {increase} {payment.currency}: debited {taken.debited}"
    if taken.claimed:
        detail += f", claimed {taken.claimed} (balance short)"
    return Result(Outcome.APPLIED, detail, payment)


def _dispute_funds_withdrawn(seller, dispute):
    """A chargeback took the money back: debit it once per dispute (the balance as far as
    it goes, the rest claimed). ``refunded_amount`` is for refunds and is left as it is."""
    dispute_id = _text(dispute, "id", limit=100)
    if not dispute_id:
        raise Refused("a dispute without an id")
    payment = _paid_payment(seller, dispute)
    key = f"dispute:{payment.reference}:{dispute_id}"
    if BalanceClaim.objects.filter(key=key).exists() or (
        LedgerEntry.objects.filter(idempotency_key=f"{key}:debit").exists()
    ):
        return Result(Outcome.DUPLICATE, f"dispute {dispute_id} booked before", payment)
    amount = _cents(dispute, "amount")
    currency = _text(dispute, "currency", limit=3).upper()
    if currency != payment.currency or not 0 < amount <= stripe_api.to_cents(payment.amount):
        raise Refused(
            f"wrong amount: a dispute of {amount} {currency} (cents) on {payment.reference}",
            payment,
        )
    taken = _take_back(payment, stripe_api.from_cents(amount), key=key, why="Card payment disputed")
    detail = f"dispute {dispute_id}: debited {taken.debited}"
    if taken.claimed:
        detail += f", claimed {taken.claimed} (balance short)"
    return Result(Outcome.APPLIED, detail, payment)


HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "payment_intent.succeeded": _intent_succeeded,
    "checkout.session.expired": _session_expired,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.funds_withdrawn": _dispute_funds_withdrawn,
}


def _log(seller, event_id, event_type, result):
    return PaymentEvent.objects.create(
        seller=seller,
        event_id=event_id,
        event_type=event_type,
        outcome=result.outcome,
        detail=result.detail[:500],
        payment=result.payment,
    )


def _log_unverified(seller, result):
    """Log a call refused before its signature verified. Anybody can make those, so at
    most ``WEBHOOK_UNVERIFIED_LOGGED_PER_MINUTE`` a minute per seller are kept as rows
    (the rest only in the server log): a flood cannot fill the database."""
    logger.warning("refused a Stripe webhook for seller %s: %s", seller.pk, result.detail)
    if throttle_hit(
        scope="stripe-webhook-unverified",
        value=seller.pk,
        limit=settings.WEBHOOK_UNVERIFIED_LOGGED_PER_MINUTE,
        window_seconds=60,
    ):
        _log(seller, "", "", result)


def webhook_refuse(*, seller, detail) -> Result:
    """Log a call refused before it was read (too large, a garbled length)."""
    result = Result(Outcome.REFUSED, detail)
    _log_unverified(seller, result)
    return result


def webhook_receive(*, seller, payload: bytes, signature: str) -> Result:
    """Verify and apply one webhook call for ``seller``; always logged."""
    keys = stripe_api.keys_for(seller)
    if keys is None:
        return webhook_refuse(seller=seller, detail="card payments are not set up for this seller")
    if not signature.isascii():
        return webhook_refuse(seller=seller, detail="signature: the header is not ASCII")
    try:
        event = stripe_api.event_verify(payload, signature, keys)
    except stripe_api.SignatureError as exc:
        return webhook_refuse(seller=seller, detail=f"signature: {exc}")
    except (AttributeError, TypeError):
        # Signed, but JSON that is not an object: Stripe's library cannot read it.
        result = Result(Outcome.REFUSED, "body: not an event object")
        _log(seller, "", "", result)
        return result
    event_id, event_type = _text(event, "id"), _text(event, "type", limit=100)
    handler = HANDLERS.get(event_type)
    if handler is None:
        result = Result(Outcome.IGNORED, "not an event we act on")
        _log(seller, event_id, event_type, result)
        return result
    obj = _get(_get(event, "data", {}), "object", {})
    try:
        with transaction.atomic():
            result = handler(seller, obj)
            _log(seller, event_id, event_type, result)
    except Refused as exc:
        result = Result(Outcome.REFUSED, exc.detail, exc.payment)
        logger.warning("refused Stripe event %s (%s): %s", event_id, event_type, exc.detail)
        _log(seller, event_id, event_type, result)
    return result


def balance_claim_settle(*, claim_id, seller, user, note) -> BalanceClaim:
    """Mark a claim settled (collected, or written off) with finance's note. Only the
    seller that collects for the claim's account settles it (its finance staff or
    admins), once."""
    if collector_of(user) != seller:
        raise PermissionDenied("Only the finance staff of the seller settle its claims.")
    note = " ".join(str(note).split())[:255]
    if not note:
        raise ValidationError({"note": "Say how the claim was settled."})
    with transaction.atomic():
        claim = (
            BalanceClaim.objects.select_for_update(of=("self",))
            .filter(pk=claim_id, account__parent=seller)
            .first()
        )
        if claim is None:
            raise BalanceClaim.DoesNotExist(f"No claim {claim_id} of {seller}.")
        if claim.settled_at is not None:
            raise ValidationError(
                f"This claim was settled on {timezone.localtime(claim.settled_at):%-d %b %Y} "
                f"by {claim.settled_by}: “{claim.settlement_note}”."
            )
        claim.settled_at = timezone.now()
        claim.settled_by = user
        claim.settlement_note = note
        claim.save(update_fields=["settled_at", "settled_by", "settlement_note"])
    return claim
