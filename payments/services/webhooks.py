"""Stripe's webhook calls: verified, logged, and applied at most once.

``webhook_receive`` is the whole of it: the signature is checked with the seller's
endpoint secret (and its timestamp with the tolerance, so an old event replayed is
refused), the event is applied by type, and one ``PaymentEvent`` row records what came
and what we did. The balance moves only here (through ``card.card_payment_credit``).
"""

import logging
from dataclasses import dataclass

from django.db import transaction

from .. import stripe_api
from ..models import CardPayment, PaymentEvent
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
    except (KeyError, TypeError, IndexError):
        return default
    return default if value is None else value


def _payment_id(obj):
    """Our payment's id, from the metadata we set (or the client reference ``CP-<id>``)."""
    value = _get(_get(obj, "metadata", {}), "payment_id") or ""
    if not value:
        reference = _get(obj, "client_reference_id") or ""
        value = reference[3:] if reference.startswith("CP-") else ""
    if not str(value).isdigit():
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
    payment = _known(_payment_id(session), seller, session_id=_get(session, "id", ""))
    return _credit(
        seller,
        payment,
        amount_cents=_get(session, "amount_total", 0),
        currency=_get(session, "currency", ""),
        payment_intent_id=_get(session, "payment_intent", "") or "",
        customer_id=_get(session, "customer", "") or "",
    )


def _intent_succeeded(seller, intent):
    payment = _known(_payment_id(intent), seller, payment_intent_id=_get(intent, "id", ""))
    return _credit(
        seller,
        payment,
        amount_cents=_get(intent, "amount_received", 0),
        currency=_get(intent, "currency", ""),
        payment_intent_id=_get(intent, "id", ""),
        customer_id=_get(intent, "customer", "") or "",
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
    error = _get(intent, "last_payment_error", {}) or {}
    message = _get(error, "message", "") or "The card payment failed."
    result = _closed(seller, intent, CardPayment.Status.FAILED, message)
    if result.outcome == Outcome.APPLIED:
        autotopup.auto_topup_failure_record(result.payment)  # e-mails, if an auto top-up
    return result


HANDLERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "payment_intent.succeeded": _intent_succeeded,
    "checkout.session.expired": _session_expired,
    "payment_intent.payment_failed": _intent_failed,
}


def _log(seller, event_id, event_type, result):
    return PaymentEvent.objects.create(
        seller=seller,
        event_id=event_id or "",
        event_type=(event_type or "")[:100],
        outcome=result.outcome,
        detail=result.detail[:500],
        payment=result.payment,
    )


def webhook_receive(*, seller, payload: bytes, signature: str) -> Result:
    """Verify and apply one webhook call for ``seller``; always logged."""
    keys = stripe_api.keys_for(seller)
    if keys is None:
        result = Result(Outcome.REFUSED, "card payments are not set up for this seller")
        _log(seller, "", "", result)
        return result
    try:
        event = stripe_api.event_verify(payload, signature, keys)
    except stripe_api.SignatureError as exc:
        result = Result(Outcome.REFUSED, f"signature: {exc}")
        logger.warning("refused a Stripe webhook for seller %s: %s", seller.pk, exc)
        _log(seller, "", "", result)
        return result
    event_id, event_type = _get(event, "id", ""), _get(event, "type", "")
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
