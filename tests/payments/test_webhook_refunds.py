"""Refunds and chargebacks reported by Stripe: the balance gives back only what is new, as
far as it goes, and the rest is claimed (never a negative balance)."""

from decimal import Decimal

import pytest
from django.db import transaction

from billing.models import Balance, LedgerEntry
from billing.services import balance_lock, charge, payout_record
from outbox.models import OutgoingEmail
from payments.models import BalanceClaim, CardPayment, PaymentEvent
from payments.services import card
from tests.payments.fake_stripe import signed_event

pytestmark = pytest.mark.postgres

URL = "/payments/stripe/webhook/"


def _send(client, fake, event_type, obj, **kwargs):
    body, headers = signed_event(event_type, obj, fake.webhook_secret, **kwargs)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )


@pytest.fixture
def paid(client, fake_stripe, customer_admin):
    """A 60.00 USD card payment, paid and credited through the webhook."""
    started = card.card_checkout_start(
        user=customer_admin,
        amount=Decimal("60.00"),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    session = fake_stripe.pay(started.payment.session_id, deliver=False)
    assert _send(client, fake_stripe, "checkout.session.completed", session).status_code == 200
    payment = CardPayment.objects.get(pk=started.payment.pk)
    assert payment.status == CardPayment.Status.PAID
    return payment


def _refund_at_stripe(fake, payment, cents):
    status, refund = fake.create_refund(
        {"payment_intent": payment.payment_intent_id, "amount": str(cents)}
    )
    assert status == 200, refund
    return fake.charge_for(payment.payment_intent_id)


def _balance(account):
    return Balance.objects.get(account=account).amount


def _spend(account, amount):
    charge(account=account, amount=amount, idempotency_key=f"spend:{amount}", job="test")


def test_partial_refunds_debit_what_is_new(client, fake_stripe, paid):
    first = _refund_at_stripe(fake_stripe, paid, 1000)
    assert _send(client, fake_stripe, "charge.refunded", first).status_code == 200
    second = _refund_at_stripe(fake_stripe, paid, 500)
    assert _send(client, fake_stripe, "charge.refunded", second).status_code == 200
    # Repeated and late (out of order: the first, cumulative 10.00, after the second).
    assert _send(client, fake_stripe, "charge.refunded", second).status_code == 200
    assert _send(client, fake_stripe, "charge.refunded", first).status_code == 200

    assert _balance(paid.account) == Decimal("45.00")
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("15.00")
    payouts = LedgerEntry.objects.filter(account=paid.account, kind="payout").order_by("pk")
    assert [e.amount for e in payouts] == [Decimal("-10.00"), Decimal("-5.00")]
    assert {e.created_by_job for e in payouts} == {"stripe-webhook"}
    refund_events = PaymentEvent.objects.filter(event_type="charge.refunded").order_by("pk")
    assert [e.outcome for e in refund_events] == ["applied", "applied", "duplicate", "duplicate"]
    assert all(e.payment_id == paid.pk for e in refund_events)
    assert not BalanceClaim.objects.exists()


def test_refund_of_spent_money_debits_to_zero_and_claims_the_rest(client, fake_stripe, paid):
    _spend(paid.account, Decimal("50.00"))
    refunded = _refund_at_stripe(fake_stripe, paid, 6000)
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200

    assert _balance(paid.account) == Decimal("0.00")
    payout = LedgerEntry.objects.get(account=paid.account, kind="payout")
    assert payout.amount == Decimal("-10.00")
    claim = BalanceClaim.objects.get()
    assert (claim.account, claim.amount, claim.payment) == (paid.account, Decimal("50.00"), paid)
    assert claim.settled_at is None
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("60.00")
    email = OutgoingEmail.objects.get(subject__contains="refunded")
    assert "50.00 USD is owed" in email.text and "10.00 USD was taken" in email.text
    assert paid.created_by.email in email.to


def test_refund_with_an_empty_balance_is_all_claimed(client, fake_stripe, paid):
    _spend(paid.account, Decimal("60.00"))
    refunded = _refund_at_stripe(fake_stripe, paid, 2000)
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200
    assert _balance(paid.account) == Decimal("0.00")
    assert not LedgerEntry.objects.filter(kind="payout").exists()
    assert BalanceClaim.objects.get().amount == Decimal("20.00")


def test_refund_booked_by_the_refunds_lane_is_not_debited_twice(client, fake_stripe, paid):
    """What a payout to the card does (``services.refunds``): lock the balance and the
    payment row, refund at Stripe, debit the balance and raise ``refunded_amount`` in one
    transaction. Stripe's ``charge.refunded`` for that
    refund then finds nothing new."""
    with transaction.atomic():
        balance_lock(paid.account)
        payment = CardPayment.objects.select_for_update().get(pk=paid.pk)
        refunded = _refund_at_stripe(fake_stripe, payment, 2500)
        payout_record(
            account=payment.account,
            amount=Decimal("25.00"),
            idempotency_key="payout:refunds-lane:1",
            description="Unused balance refunded to the card",
            job="refunds-test",
        )
        payment.refunded_amount += Decimal("25.00")
        payment.save(update_fields=["refunded_amount"])

    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200
    assert _balance(paid.account) == Decimal("35.00")
    assert LedgerEntry.objects.filter(kind="payout").count() == 1
    event = PaymentEvent.objects.get(event_type="charge.refunded")
    assert event.outcome == "duplicate"

    # A later refund made in Stripe's dashboard on top of it is debited by the webhook.
    more = _refund_at_stripe(fake_stripe, paid, 1000)
    assert _send(client, fake_stripe, "charge.refunded", more).status_code == 200
    assert _balance(paid.account) == Decimal("25.00")


def test_refund_event_after_a_real_payout_to_the_card_debits_nothing_more(
    client, fake_stripe, paid, finance_user
):
    """The same with the payouts service itself: finance pays 25.00 back to the card."""
    from payments.models import Payout  # noqa: PLC0415
    from payments.services.refunds import payout_start  # noqa: PLC0415

    done = payout_start(
        actor=finance_user, account=paid.account, amount="25.00", method=Payout.Method.CARD
    )
    assert done.applied
    assert _balance(paid.account) == Decimal("35.00")
    refunded = fake_stripe.charge_for(paid.payment_intent_id)
    assert refunded["amount_refunded"] == 2500
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200
    assert _balance(paid.account) == Decimal("35.00")
    assert PaymentEvent.objects.get(event_type="charge.refunded").outcome == "duplicate"
    assert not BalanceClaim.objects.exists()


def test_refund_event_waiting_for_the_refunds_lane_lock_debits_nothing_new(
    transactional_db, fake_stripe, paid
):
    """The webhook arrives while the payout still holds the balance and the payment row: it
    waits for the payout's commit, then sees the raised ``refunded_amount``."""
    import threading  # noqa: PLC0415

    from django.db import connection  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    locked, sent = threading.Event(), {}

    def webhook():
        locked.wait(10)
        charge_obj = fake_stripe.charge_for(paid.payment_intent_id)
        try:
            sent["status"] = _send(Client(), fake_stripe, "charge.refunded", charge_obj).status_code
        finally:
            connection.close()

    thread = threading.Thread(target=webhook)
    thread.start()
    with transaction.atomic():
        balance_lock(paid.account)
        payment = CardPayment.objects.select_for_update().get(pk=paid.pk)
        _refund_at_stripe(fake_stripe, payment, 6000)
        locked.set()
        thread.join(1)  # the webhook is blocked on the locks meanwhile
        assert thread.is_alive()
        payout_record(
            account=payment.account,
            amount=Decimal("60.00"),
            idempotency_key="payout:refunds-lane:2",
            description="Unused balance refunded to the card",
            job="refunds-test",
        )
        payment.refunded_amount = Decimal("60.00")
        payment.save(update_fields=["refunded_amount"])
    thread.join(20)
    assert sent["status"] == 200
    assert _balance(paid.account) == Decimal("0.00")
    assert LedgerEntry.objects.filter(kind="payout").count() == 1
    assert not BalanceClaim.objects.exists()
    assert PaymentEvent.objects.get(event_type="charge.refunded").outcome == "duplicate"


def test_refund_of_an_unpaid_payment_is_refused_for_a_retry(client, fake_stripe, customer_admin):
    started = card.card_checkout_start(
        user=customer_admin,
        amount=Decimal("60.00"),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    session = fake_stripe.pay(started.payment.session_id, deliver=False)
    refunded = _refund_at_stripe(
        fake_stripe, CardPayment(payment_intent_id=session["payment_intent"]), 6000
    )
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 400
    assert not LedgerEntry.objects.exists()
    assert "not credited" in PaymentEvent.objects.get().detail
    # Stripe retries: once the payment is credited, the refund is taken back.
    assert _send(client, fake_stripe, "checkout.session.completed", session).status_code == 200
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 200
    assert _balance(started.payment.account) == Decimal("0.00")


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 5000},
        {"currency": "eur"},
        {"amount_refunded": 999999},
        {"amount_refunded": "10"},
        {"amount_refunded": -5},
        {"payment_intent": "pi_someone_else", "metadata": {}},
    ],
)
def test_refund_event_that_does_not_fit_is_refused(client, fake_stripe, paid, change):
    refunded = {**_refund_at_stripe(fake_stripe, paid, 1000), **change}
    assert _send(client, fake_stripe, "charge.refunded", refunded).status_code == 400
    assert _balance(paid.account) == Decimal("60.00")
    paid.refresh_from_db()
    assert paid.refunded_amount == Decimal("0.00")
    assert PaymentEvent.objects.get(event_type="charge.refunded").outcome == "refused"


def test_dispute_debits_once(client, fake_stripe, paid):
    _spend(paid.account, Decimal("40.00"))
    dispute = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": 6000,
        "currency": "usd",
        "charge": "ch_x",
        "payment_intent": paid.payment_intent_id,
        "metadata": {},
    }
    for _ in range(2):
        response = _send(client, fake_stripe, "charge.dispute.funds_withdrawn", dispute)
        assert response.status_code == 200
    assert _balance(paid.account) == Decimal("0.00")
    assert LedgerEntry.objects.get(kind="payout").amount == Decimal("-20.00")
    assert BalanceClaim.objects.get(key=f"dispute:{paid.reference}:dp_test_1").amount == Decimal(
        "40.00"
    )
    outcomes = PaymentEvent.objects.filter(event_type__startswith="charge.dispute")
    assert sorted(outcomes.values_list("outcome", flat=True)) == ["applied", "duplicate"]
