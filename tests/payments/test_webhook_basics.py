"""The webhook endpoint: signed events credit once; a bad signature is refused and logged."""

from decimal import Decimal

import pytest

from billing.models import Balance
from payments.models import PaymentEvent
from payments.services import card
from tests.payments.fake_stripe import signed_event

pytestmark = pytest.mark.postgres

URL = "/payments/stripe/webhook/"


def _post(client, body, headers):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )


@pytest.fixture
def paid_session(fake_stripe, customer_admin):
    started = card.card_checkout_start(
        user=customer_admin,
        amount=Decimal("60.00"),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    return started.payment, fake_stripe.pay(started.payment.session_id, deliver=False)


def test_completed_event_credits_once(client, fake_stripe, paid_session):
    payment, session = paid_session
    body, headers = signed_event("checkout.session.completed", session, fake_stripe.webhook_secret)
    assert _post(client, body, headers).status_code == 200
    assert _post(client, body, headers).status_code == 200
    assert Balance.objects.get(account=payment.account).amount == Decimal("60.00")
    outcomes = list(PaymentEvent.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == ["applied", "duplicate"]


def test_forged_signature_refused_and_logged(client, fake_stripe, paid_session):
    _, session = paid_session
    body, headers = signed_event("checkout.session.completed", session, "whsec_wrong")
    assert _post(client, body, headers).status_code == 400
    assert not Balance.objects.filter(amount__gt=0).exists()
    event = PaymentEvent.objects.get()
    assert event.outcome == "refused" and "signature" in event.detail
