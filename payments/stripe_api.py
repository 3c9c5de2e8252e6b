"""The one module that talks to Stripe, through the official ``stripe`` library.

Everything else calls these functions with our own objects; amounts and currencies are
always ours (``CardPayment``), never a browser's. Whose Stripe account is used depends on
the seller (``keys_for``): the platform's keys come from settings, a reseller's from its
``StripeKeys`` (encrypted). Tests point ``STRIPE_API_BASE`` at a local fake of the
endpoints used here (``tests/payments/fake_stripe.py``).
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

import stripe
from django.conf import settings

from didportal.crypto import DecryptionError, decrypt

from .models import CardPayment, StripeKeys, seller_for

logger = logging.getLogger(__name__)

# Stripe amounts are integers in the currency's smallest unit; all our currencies have cents.
CENTS = Decimal(100)


class PaymentProviderError(Exception):
    """Stripe refused or could not be reached. ``message`` is safe to show a user."""

    def __init__(self, message, *, code=""):
        super().__init__(message)
        self.message = message
        self.code = code


class SignatureError(Exception):
    """A webhook call whose signature, timestamp or body does not verify."""


@dataclass(frozen=True)
class Keys:
    secret_key: str
    webhook_secret: str
    publishable_key: str


def keys_for(seller) -> Keys | None:
    """The Stripe keys that collect for ``seller`` (the platform or a reseller), or None
    when it takes no card payments."""
    if seller.is_platform:
        if not (settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET):
            return None
        return Keys(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_WEBHOOK_SECRET,
            settings.STRIPE_PUBLISHABLE_KEY,
        )
    stored = StripeKeys.objects.filter(account=seller).first()
    if stored is None:
        return None
    try:
        return Keys(
            decrypt(stored.secret_key_encrypted),
            decrypt(stored.webhook_secret_encrypted),
            stored.publishable_key,
        )
    except DecryptionError:
        # Keys encrypted under a FIELD_ENCRYPTION_KEYS entry that is gone: card payments
        # stop for this seller's customers (they see bank transfer) rather than erroring.
        logger.error(
            "Stripe keys of seller %s cannot be decrypted with FIELD_ENCRYPTION_KEYS: "
            "card payments are off for its customers until the keys are entered again",
            seller.pk,
        )
        return None


def card_payments_enabled_for(account) -> bool:
    """``account`` can pay by card: whoever collects its money has Stripe keys."""
    return keys_for(seller_for(account)) is not None


def to_cents(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_exact())


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / CENTS).quantize(Decimal("0.01"))


def _client(keys: Keys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.secret_key,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=(5, settings.STRIPE_TIMEOUT_SECONDS)),
    )


def _provider_error(exc: stripe.StripeError) -> PaymentProviderError:
    if isinstance(exc, stripe.CardError):
        return PaymentProviderError(exc.user_message or "The card was declined.", code=exc.code)
    if isinstance(exc, stripe.APIConnectionError):
        return PaymentProviderError("The card processor could not be reached. Try again shortly.")
    return PaymentProviderError(
        "The card processor refused the request. Try again, or pay by bank transfer.",
        code=getattr(exc, "code", "") or "",
    )


def checkout_session_create(
    keys: Keys,
    *,
    payment: CardPayment,
    success_url: str,
    cancel_url: str,
    customer_email: str = "",
    save_card: bool = False,
    customer_id: str = "",
) -> tuple[str, str]:
    """A hosted Checkout Session for ``payment``: returns (session id, URL to send the
    customer to). ``save_card`` keeps the card for off-session auto top-ups."""
    metadata = {"payment_id": str(payment.pk), "account_id": str(payment.account_id)}
    intent_data = {"metadata": metadata, "description": f"Top-up {payment.reference}"}
    if save_card:
        intent_data["setup_future_usage"] = "off_session"
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": to_cents(payment.amount),
                    "product_data": {"name": "Prepaid balance top-up"},
                },
            }
        ],
        "client_reference_id": payment.reference,
        "metadata": metadata,
        "payment_intent_data": intent_data,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer_id:
        params["customer"] = customer_id
    else:
        if customer_email:
            params["customer_email"] = customer_email
        if save_card:
            params["customer_creation"] = "always"
    try:
        session = _client(keys).v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"checkout-session-{payment.reference}"}
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc
    return session.id, session.url


def checkout_session_expire(keys: Keys, session_id: str) -> None:
    try:
        _client(keys).v1.checkout.sessions.expire(session_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


def payment_intent_retrieve(keys: Keys, payment_intent_id: str):
    try:
        return _client(keys).v1.payment_intents.retrieve(payment_intent_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


def payment_method_retrieve(keys: Keys, payment_method_id: str):
    """A saved card's details (``card.brand``, ``last4``, ``exp_month``, ``exp_year``)."""
    try:
        return _client(keys).v1.payment_methods.retrieve(payment_method_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


def payment_method_detach(keys: Keys, payment_method_id: str) -> None:
    """Forget a saved card at the provider: it can no longer be charged off-session."""
    try:
        _client(keys).v1.payment_methods.detach(payment_method_id)
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


def payment_intent_off_session(
    keys: Keys, *, payment: CardPayment, customer_id: str, payment_method_id: str
):
    """Charge a saved card without the customer present (auto top-up). Returns the
    PaymentIntent; a declined card raises ``PaymentProviderError`` with Stripe's reason.
    The balance is still credited only by the webhook."""
    params = {
        "amount": to_cents(payment.amount),
        "currency": payment.currency.lower(),
        "customer": customer_id,
        "payment_method": payment_method_id,
        "off_session": True,
        "confirm": True,
        "metadata": {"payment_id": str(payment.pk), "account_id": str(payment.account_id)},
        "description": f"Auto top-up {payment.reference}",
    }
    try:
        return _client(keys).v1.payment_intents.create(
            params=params, options={"idempotency_key": f"payment-intent-{payment.reference}"}
        )
    except stripe.StripeError as exc:
        raise _provider_error(exc) from exc


def refund_create(
    keys: Keys, *, payment_intent_id: str, amount: Decimal, idempotency_key: str, metadata=None
):
    """Refund ``amount`` of a paid PaymentIntent to its card. Returns the Refund."""
    params = {
        "payment_intent": payment_intent_id,
        "amount": to_cents(amount),
        "metadata": metadata or {},
    }
    try:
        return _client(keys).v1.refunds.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.APIConnectionError as exc:
        raise _provider_error(exc) from exc
    except stripe.StripeError as exc:
        # Finance reads this: Stripe's own reason (a disputed charge, an expired card).
        reason = exc.user_message or "no reason given"
        raise PaymentProviderError(
            f"The card processor refused the refund: {reason}",
            code=getattr(exc, "code", "") or "",
        ) from exc


def event_verify(payload: bytes, signature_header: str, keys: Keys):
    """The webhook's event if its ``Stripe-Signature`` verifies with the endpoint secret
    and its timestamp is within ``STRIPE_WEBHOOK_TOLERANCE_SECONDS``; else SignatureError."""
    try:
        return stripe.Webhook.construct_event(
            payload,
            signature_header or "",
            keys.webhook_secret,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise SignatureError(str(exc)) from exc
