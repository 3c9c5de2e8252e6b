"""Payouts of unused balance: asked, declined, paid by bank or back to cards (through the
fake Stripe), split across card payments, paid once however often it is asked."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from billing.models import Balance, LedgerEntry
from billing.selectors import balance_mismatches
from outbox.models import OutgoingEmail
from payments import stripe_api
from payments.models import CardPayment, PaymentEvent, Payout
from payments.services import refunds
from tests.billing.factories import fund
from tests.factories import AccountFactory, UserFactory, platform
from tests.payments.fake_stripe import signed_event
from tests.payments.refunds_helpers import paid_card, refund_requests

pytestmark = pytest.mark.postgres
D = Decimal


def balance(account):
    return Balance.objects.get(account=account).amount


def assert_ledger_adds_up(account):
    total = LedgerEntry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"]
    assert total == balance(account)
    assert not balance_mismatches().filter(pk=account.pk).exists()


def payout_debits(account):
    return list(
        LedgerEntry.objects.filter(account=account, kind="payout")
        .order_by("pk")
        .values_list("amount", flat=True)
    )


# --- Asking ------------------------------------------------------------------------------------


def test_request_one_open_at_most_the_balance(customer_admin):
    account = customer_admin.account
    fund(account, "100.00")
    payout = refunds.payout_request(user=customer_admin, amount="40", note="IBAN NL91 ABNA 0417")
    assert (payout.status, payout.amount, payout.seller) == (
        "requested",
        D("40.00"),
        account.parent,
    )
    assert payout.customer_note == "IBAN NL91 ABNA 0417"
    email = OutgoingEmail.objects.get(key=f"payout:{payout.pk}:received")
    assert customer_admin.email in email.to and "40.00 USD" in email.text
    with pytest.raises(ValidationError, match="already has an open payout request of 40.00"):
        refunds.payout_request(user=customer_admin, amount="10")
    assert balance(account) == D("100.00")  # asking moves no money


def test_request_above_the_balance_is_refused(customer_admin):
    fund(customer_admin.account, "30.00")
    with pytest.raises(ValidationError) as raised:
        refunds.payout_request(user=customer_admin, amount="30.01")
    assert "The balance of" in raised.value.message_dict["amount"][0]
    assert "30.00 USD" in raised.value.message_dict["amount"][0]
    with pytest.raises(ValidationError):
        refunds.payout_request(user=customer_admin, amount="0")
    assert not Payout.objects.exists()


def test_who_may_ask(customer, customer_member):
    fund(customer, "30.00")
    with pytest.raises(PermissionDenied):
        refunds.payout_request(user=customer_member, amount="5")
    billing = UserFactory(account=customer, role="customer_billing")
    assert refunds.payout_request(user=billing, amount="5").requested_by == billing


# --- Declining ----------------------------------------------------------------------------------


def test_decline_with_a_note(customer_admin, finance_user):
    fund(customer_admin.account, "50.00")
    payout = refunds.payout_request(user=customer_admin, amount="20")
    with pytest.raises(ValidationError, match="Say why"):
        refunds.payout_decline(actor=finance_user, payout_id=payout.pk, note="  ")
    refunds.payout_decline(actor=finance_user, payout_id=payout.pk, note="Balance is promotional")
    payout.refresh_from_db()
    assert (payout.status, payout.decided_by, payout.note) == (
        "declined",
        finance_user,
        "Balance is promotional",
    )
    email = OutgoingEmail.objects.get(key=f"payout:{payout.pk}:declined")
    assert "Balance is promotional" in email.text
    with pytest.raises(ValidationError, match="declined already"):
        refunds.payout_decline(actor=finance_user, payout_id=payout.pk, note="again")
    # Another request may follow a declined one.
    assert refunds.payout_request(user=customer_admin, amount="5").status == "requested"
    assert balance(customer_admin.account) == D("50.00")


def test_only_whoever_collects_decides(finance_user):
    root = platform()
    reseller = AccountFactory(kind="reseller", parent=root)
    resold = AccountFactory(kind="customer", parent=reseller)
    fund(resold, "20.00")
    payout = refunds.payout_request(
        user=UserFactory(account=resold, role="customer_admin"), amount="10"
    )
    other = UserFactory(account=AccountFactory(kind="reseller"), role="reseller_finance")
    support = UserFactory(account=reseller, role="reseller_support")
    for actor in (finance_user, other, support):  # the platform does not collect for it
        with pytest.raises(PermissionDenied):
            refunds.payout_pay(
                actor=actor, payout_id=payout.pk, method="bank_transfer", bank_reference="X"
            )
        with pytest.raises(PermissionDenied):
            refunds.payout_decline(actor=actor, payout_id=payout.pk, note="no")
    reseller_admin = UserFactory(account=reseller, role="reseller_admin")
    result = refunds.payout_pay(
        actor=reseller_admin, payout_id=payout.pk, method="bank_transfer", bank_reference="TR-9"
    )
    assert result.applied and result.payout.status == "paid"
    assert payout_debits(resold) == [D("-10.00")]


# --- Paying by bank transfer ----------------------------------------------------------------------


def test_pay_by_bank_transfer(customer_admin, finance_user):
    account = customer_admin.account
    fund(account, "100.00")
    payout = refunds.payout_request(user=customer_admin, amount="40")
    with pytest.raises(ValidationError) as raised:
        refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="bank_transfer")
    assert "bank_reference" in raised.value.message_dict
    result = refunds.payout_pay(
        actor=finance_user,
        payout_id=payout.pk,
        method="bank_transfer",
        bank_reference=" SEPA-2026-001 ",
        note="Sent from ING",
    )
    payout.refresh_from_db()
    assert result.applied
    assert (payout.status, payout.method, payout.bank_reference) == (
        "paid",
        "bank_transfer",
        "SEPA-2026-001",
    )
    entry = payout.ledger_entry
    assert (entry.kind, entry.amount, entry.balance_after) == ("payout", D("-40.00"), D("60.00"))
    assert (entry.reference_type, entry.reference_id, entry.created_by) == (
        "payout",
        str(payout.pk),
        finance_user,
    )
    assert balance(account) == D("60.00")
    email = OutgoingEmail.objects.get(key=f"payout:{payout.pk}:paid")
    assert "40.00 USD by bank transfer (reference SEPA-2026-001)" in email.text
    assert_ledger_adds_up(account)


def test_pay_less_than_asked_never_more_than_the_balance(customer_admin, finance_user):
    account = customer_admin.account
    fund(account, "50.00")
    payout = refunds.payout_request(user=customer_admin, amount="50")
    from tests.billing.factories import spend

    spend(account, "20.00")  # spent after asking
    with pytest.raises(ValidationError, match="30.00 USD"):
        refunds.payout_pay(
            actor=finance_user, payout_id=payout.pk, method="bank_transfer", bank_reference="B"
        )
    assert payout_debits(account) == []
    refunds.payout_pay(
        actor=finance_user,
        payout_id=payout.pk,
        method="bank_transfer",
        bank_reference="B",
        amount="30",
    )
    payout.refresh_from_db()
    assert payout.amount == D("30.00") and balance(account) == D("0.00")
    assert_ledger_adds_up(account)


def test_double_pay_pays_once(customer_admin, finance_user):
    fund(customer_admin.account, "10.00")
    payout = refunds.payout_request(user=customer_admin, amount="10")
    kwargs = dict(
        actor=finance_user, payout_id=payout.pk, method="bank_transfer", bank_reference="B"
    )
    assert refunds.payout_pay(**kwargs).applied
    again = refunds.payout_pay(**kwargs)
    assert not again.applied and again.payout.status == "paid"
    assert payout_debits(customer_admin.account) == [D("-10.00")]
    with pytest.raises(ValidationError, match="paid already"):
        refunds.payout_decline(actor=finance_user, payout_id=payout.pk, note="late")


def test_finance_starts_a_payout_unasked(customer_admin, finance_user):
    account = customer_admin.account
    fund(account, "25.00")
    result = refunds.payout_start(
        actor=finance_user,
        account=account,
        amount="25",
        method="bank_transfer",
        bank_reference="CLOSE-1",
    )
    assert result.payout.status == "paid" and result.payout.requested_by == finance_user
    assert balance(account) == D("0.00")
    assert not OutgoingEmail.objects.filter(key=f"payout:{result.payout.pk}:received").exists()
    assert OutgoingEmail.objects.filter(key=f"payout:{result.payout.pk}:paid").exists()
    with pytest.raises(ValidationError):  # nothing left
        refunds.payout_start(
            actor=finance_user,
            account=account,
            amount="1",
            method="bank_transfer",
            bank_reference="X",
        )


# --- Paying back to cards -------------------------------------------------------------------------


def test_pay_back_to_the_card(fake_stripe, customer_admin, finance_user):
    account = customer_admin.account
    payment = paid_card(fake_stripe, customer_admin, "75.00")
    payout = refunds.payout_request(user=customer_admin, amount="30")
    assert refunds.card_refundable(account) == D("75.00")
    result = refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert result.applied and not result.parts and result.remainder is None
    (request,) = refund_requests(fake_stripe)
    assert request["form"]["payment_intent"] == payment.payment_intent_id
    assert request["form"]["amount"] == "3000"
    assert request["idempotency_key"] == f"payout-{payout.pk}-{payment.pk}"
    (refund,) = fake_stripe.refunds.values()
    payout.refresh_from_db()
    payment.refresh_from_db()
    assert (payout.status, payout.method, payout.card_payment, payout.provider_refund_id) == (
        "paid",
        "card",
        payment,
        refund["id"],
    )
    assert payment.refunded_amount == D("30.00") and payment.refundable == D("45.00")
    assert payout_debits(account) == [D("-30.00")]
    assert balance(account) == D("45.00")
    assert (
        "back to the card of " + payment.reference
        in OutgoingEmail.objects.get(key=f"payout:{payout.pk}:paid").text
    )
    assert_ledger_adds_up(account)


def test_split_across_two_card_payments_newest_first(fake_stripe, customer_admin, finance_user):
    account = customer_admin.account
    older = paid_card(fake_stripe, customer_admin, "60.00")
    newer = paid_card(fake_stripe, customer_admin, "40.00")
    payout = refunds.payout_request(user=customer_admin, amount="70")
    result = refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    amounts = [
        (r["form"]["payment_intent"], r["form"]["amount"]) for r in refund_requests(fake_stripe)
    ]
    assert amounts == [(newer.payment_intent_id, "4000"), (older.payment_intent_id, "3000")]
    (second,) = result.parts
    payout.refresh_from_db()
    assert (payout.amount, payout.card_payment, payout.status) == (D("40.00"), newer, "paid")
    assert (second.amount, second.card_payment, second.status) == (D("30.00"), older, "paid")
    assert second.requested_by == customer_admin
    newer.refresh_from_db()
    older.refresh_from_db()
    assert (newer.refunded_amount, older.refunded_amount) == (D("40.00"), D("30.00"))
    assert payout_debits(account) == [D("-40.00"), D("-30.00")]
    assert balance(account) == D("30.00")
    text = OutgoingEmail.objects.get(key=f"payout:{payout.pk}:paid").text
    assert "70.00 USD" in text and older.reference in text and newer.reference in text
    assert_ledger_adds_up(account)


def test_more_than_the_cards_took_goes_by_bank(fake_stripe, customer_admin, finance_user):
    account = customer_admin.account
    paid_card(fake_stripe, customer_admin, "60.00")
    fund(account, "40.00")  # a bank transfer: cannot go back to a card
    payout = refunds.payout_request(user=customer_admin, amount="80")
    with pytest.raises(ValidationError, match="Only 60.00 USD of card payments"):
        refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert refund_requests(fake_stripe) == [] and payout_debits(account) == []
    payout.refresh_from_db()
    assert payout.status == "requested"


def test_stripe_refusal_leaves_nothing_debited(fake_stripe, customer_admin, finance_user):
    account = customer_admin.account
    payment = paid_card(fake_stripe, customer_admin, "60.00")
    payout = refunds.payout_request(user=customer_admin, amount="20")
    fake_stripe.fail_refund_next("Charge was disputed.")
    with pytest.raises(stripe_api.PaymentProviderError) as raised:
        refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert raised.value.message == "The card processor refused the refund: Charge was disputed."
    payout.refresh_from_db()
    payment.refresh_from_db()
    assert payout.status == "requested" and payment.refunded_amount == 0
    assert payout_debits(account) == [] and balance(account) == D("60.00")
    assert not OutgoingEmail.objects.filter(key__startswith=f"payout:{payout.pk}:paid").exists()
    # Asked again, Stripe answers the same key as before; it is then paid by bank transfer.
    with pytest.raises(stripe_api.PaymentProviderError, match="disputed"):
        refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert payout_debits(account) == []
    refunds.payout_pay(
        actor=finance_user, payout_id=payout.pk, method="bank_transfer", bank_reference="B"
    )
    assert payout_debits(account) == [D("-20.00")]
    assert len(fake_stripe.refunds) == 0


def test_a_later_refund_failing_books_the_first_and_leaves_the_rest_open(
    fake_stripe, customer_admin, finance_user
):
    account = customer_admin.account
    older = paid_card(fake_stripe, customer_admin, "60.00")
    newer = paid_card(fake_stripe, customer_admin, "40.00")
    payout = refunds.payout_request(user=customer_admin, amount="70")
    calls = []
    original = fake_stripe._refund

    def second_fails(form):
        calls.append(form)
        if len(calls) == 2:
            fake_stripe.fail_refund_next("Card expired.")
        return original(form)

    fake_stripe._refund = second_fails
    result = refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert result.applied and not result.parts
    assert result.remainder.amount == D("30.00") and result.remainder.status == "requested"
    assert result.error == "The card processor refused the refund: Card expired."
    newer.refresh_from_db()
    older.refresh_from_db()
    assert (newer.refunded_amount, older.refunded_amount) == (D("40.00"), D("0.00"))
    assert payout_debits(account) == [D("-40.00")] and balance(account) == D("60.00")
    # The rest is paid by bank transfer.
    refunds.payout_pay(
        actor=finance_user,
        payout_id=result.remainder.pk,
        method="bank_transfer",
        bank_reference="REST",
    )
    assert payout_debits(account) == [D("-40.00"), D("-30.00")]
    assert_ledger_adds_up(account)


def test_charge_refunded_event_after_our_refund_debits_nothing_more(
    client, fake_stripe, customer_admin, finance_user
):
    """Stripe tells us of the refund we made. Once the webhooks lane handles
    ``charge.refunded`` it compares with ``refunded_amount`` and finds nothing new; before
    that the event is ignored. Either way the balance moves once."""
    account = customer_admin.account
    payment = paid_card(fake_stripe, customer_admin, "75.00")
    payout = refunds.payout_request(user=customer_admin, amount="30")
    refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    charge = fake_stripe.charge_for(payment.payment_intent_id)
    assert charge["amount_refunded"] == 3000
    body, headers = signed_event("charge.refunded", charge, fake_stripe.webhook_secret)
    response = client.post(
        "/payments/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )
    assert response.status_code == 200
    # "ignored" until the webhooks lane handles the event, then "duplicate" (nothing new).
    event = PaymentEvent.objects.get(event_type="charge.refunded")
    assert event.outcome in ("ignored", "duplicate"), (event.outcome, event.detail)
    assert payout_debits(account) == [D("-30.00")]
    assert balance(account) == D("45.00")
    payment.refresh_from_db()
    assert payment.refunded_amount == D("30.00")
    assert_ledger_adds_up(account)


def test_card_payments_of_another_account_are_never_refunded(
    fake_stripe, customer_admin, stranger, finance_user
):
    paid_card(fake_stripe, stranger, "80.00")
    fund(customer_admin.account, "50.00")
    payout = refunds.payout_request(user=customer_admin, amount="10")
    with pytest.raises(ValidationError, match="Only 0.00 USD"):
        refunds.payout_pay(actor=finance_user, payout_id=payout.pk, method="card")
    assert refund_requests(fake_stripe) == []
    assert CardPayment.objects.get(account=stranger.account).refunded_amount == 0
