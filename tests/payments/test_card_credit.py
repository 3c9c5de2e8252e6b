"""The foundation of card payments: a Checkout Session created through the real
``stripe`` library against the fake, and the one credit path."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Balance, LedgerEntry
from payments import stripe_api
from payments.models import CardPayment
from payments.services import card

pytestmark = pytest.mark.postgres


@pytest.fixture
def opened(fake_stripe, customer_admin):
    payment = card.card_payment_open(
        account=customer_admin.account, amount=Decimal("75.00"), user=customer_admin
    )
    keys = stripe_api.keys_for(payment.seller)
    session_id, url = stripe_api.checkout_session_create(
        keys,
        payment=payment,
        success_url="http://portal.test/ok?s={CHECKOUT_SESSION_ID}",
        cancel_url="http://portal.test/cancel",
        customer_email=customer_admin.email,
    )
    payment.session_id = session_id
    payment.save(update_fields=["session_id"])
    return payment


def test_session_amount_and_currency_come_from_the_payment(fake_stripe, opened):
    session = fake_stripe.sessions[opened.session_id]
    assert session["amount_total"] == 7500
    assert session["currency"] == "usd"
    assert session["client_reference_id"] == opened.reference
    assert fake_stripe.requests[-1]["idempotency_key"] == f"checkout-session-{opened.reference}"


def test_credit_once_then_duplicate(fake_stripe, opened):
    session = fake_stripe.pay(opened.session_id, deliver=False)
    first = card.card_payment_credit(
        payment_id=opened.pk,
        amount_cents=session["amount_total"],
        currency=session["currency"],
        payment_intent_id=session["payment_intent"],
    )
    again = card.card_payment_credit(
        payment_id=opened.pk, amount_cents=7500, currency="usd", payment_intent_id="pi_x"
    )
    assert first.applied and not again.applied
    assert Balance.objects.get(account=opened.account).amount == Decimal("75.00")
    entry = LedgerEntry.objects.get(account=opened.account, kind="topup")
    assert (entry.method, entry.external_reference) == ("card", opened.reference)
    opened.refresh_from_db()
    assert opened.status == CardPayment.Status.PAID
    assert opened.payment_intent_id == session["payment_intent"]


def test_wrong_amount_credits_nothing(opened):
    with pytest.raises(card.AmountMismatch):
        card.card_payment_credit(payment_id=opened.pk, amount_cents=750, currency="usd")
    with pytest.raises(card.AmountMismatch):
        card.card_payment_credit(payment_id=opened.pk, amount_cents=7500, currency="eur")
    assert not LedgerEntry.objects.filter(account=opened.account).exists()


def test_first_topup_minimum(fake_stripe, customer_admin):
    with pytest.raises(ValidationError, match="least"):
        card.card_payment_open(account=customer_admin.account, amount="49.99", user=customer_admin)


def test_no_keys_no_card(settings, customer_admin):
    settings.STRIPE_SECRET_KEY = ""
    assert not stripe_api.card_payments_enabled_for(customer_admin.account)
    with pytest.raises(ValidationError, match="not available"):
        card.card_payment_open(account=customer_admin.account, amount="60", user=customer_admin)
