"""Helpers of the refunds lane's tests: card payments paid through the fake Stripe."""

from decimal import Decimal

from payments.services import card


def paid_card(fake_stripe, user, amount):
    """A card payment of ``user``'s account, paid at the fake and credited (as the webhook
    would): the account's balance grows by ``amount``."""
    started = card.card_checkout_start(
        user=user,
        amount=Decimal(amount),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    session = fake_stripe.pay(started.payment.session_id, deliver=False)
    card.card_payment_credit(
        payment_id=started.payment.pk,
        amount_cents=session["amount_total"],
        currency=session["currency"],
        payment_intent_id=session["payment_intent"],
    )
    started.payment.refresh_from_db()
    return started.payment


def refund_requests(fake_stripe):
    return [r for r in fake_stripe.requests if r["path"] == "/v1/refunds"]
