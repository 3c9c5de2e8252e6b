"""A reseller's customers pay the reseller's Stripe account: the payment is created with
the reseller's keys and credited only by an event signed with the reseller's webhook secret
at the reseller's own webhook URL."""

from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from billing.models import Balance
from payments.models import CardPayment, PaymentEvent, StripeKeys
from payments.services import card
from payments.services import stripe_keys as keys_service
from tests.factories import AccountFactory, UserFactory
from tests.payments.fake_stripe import signed_event

pytestmark = pytest.mark.postgres

PLATFORM_URL = "/payments/stripe/webhook/"
RESELLER_SK = "sk_test_" + "R" * 40
RESELLER_WHSEC = "whsec_" + "r" * 40


@pytest.fixture
def reseller_keys(fake_stripe, reseller, reseller_admin):
    fake_stripe.add_account(RESELLER_SK, RESELLER_WHSEC)
    keys = keys_service.stripe_keys_set(
        actor=reseller_admin,
        account=reseller,
        publishable_key="pk_test_" + "P" * 40,
        secret_key=RESELLER_SK,
        webhook_secret=RESELLER_WHSEC,
    )
    return keys


def _url(keys):
    return f"/payments/stripe/webhook/{keys.webhook_token}/"


@pytest.fixture
def buyer(reseller):
    """The admin of one of the reseller's customers."""
    return UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")


def _start(user, amount="60.00"):
    return card.card_checkout_start(
        user=user,
        amount=Decimal(amount),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    ).payment


def _post(client, url, body, headers):
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )


def _balance(account):
    balance = Balance.objects.filter(account=account).first()
    return balance.amount if balance else Decimal("0.00")


def test_customers_payment_is_created_with_the_resellers_keys(fake_stripe, reseller_keys, buyer):
    payment = _start(buyer)
    assert payment.seller_id == reseller_keys.account_id
    (request,) = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"]
    assert request["secret_key"] == RESELLER_SK
    assert fake_stripe.owners[payment.session_id] == RESELLER_SK


def test_the_reseller_itself_pays_the_platform(fake_stripe, reseller_keys, reseller_admin):
    payment = _start(reseller_admin)
    assert payment.seller.is_platform
    assert fake_stripe.requests[-1]["secret_key"] == fake_stripe.secret_key


def test_credited_by_the_resellers_signed_event_at_its_url(
    client, fake_stripe, reseller_keys, buyer
):
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    assert _post(client, _url(reseller_keys), body, headers).status_code == 200
    assert _post(client, _url(reseller_keys), body, headers).status_code == 200
    assert _balance(buyer.account) == Decimal("60.00")
    assert _balance(reseller_keys.account) == Decimal("0.00")
    events = PaymentEvent.objects.order_by("pk")
    assert [(e.seller_id, e.outcome) for e in events] == [
        (reseller_keys.account_id, "applied"),
        (reseller_keys.account_id, "duplicate"),
    ]


def test_the_platforms_endpoint_refuses_a_resellers_customers_payment(
    client, fake_stripe, reseller_keys, buyer
):
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    # Signed with the platform's secret: verifies, but the payment is not the platform's.
    body, headers = signed_event("checkout.session.completed", session, fake_stripe.webhook_secret)
    assert _post(client, PLATFORM_URL, body, headers).status_code == 400
    # Signed with the reseller's secret but sent to the platform: the signature fails.
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    assert _post(client, PLATFORM_URL, body, headers).status_code == 400
    # Signed with the platform's secret at the reseller's URL: the signature fails.
    body, headers = signed_event("checkout.session.completed", session, fake_stripe.webhook_secret)
    assert _post(client, _url(reseller_keys), body, headers).status_code == 400
    assert _balance(buyer.account) == Decimal("0.00")
    assert CardPayment.objects.get(pk=payment.pk).status == CardPayment.Status.OPEN
    logged = list(PaymentEvent.objects.order_by("pk").values_list("seller_id", "outcome", "detail"))
    platform_id = payment.account.parent.parent_id
    assert [(s, o) for s, o, _ in logged] == [
        (platform_id, "refused"),
        (platform_id, "refused"),
        (reseller_keys.account_id, "refused"),
    ]
    assert f"unknown payment CP-{payment.pk}" in logged[0][2]
    assert "signature" in logged[1][2] and "signature" in logged[2][2]


def test_the_resellers_endpoint_refuses_a_platform_customers_payment(
    client, fake_stripe, reseller_keys, customer_admin
):
    payment = _start(customer_admin)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    assert _post(client, _url(reseller_keys), body, headers).status_code == 400
    assert _balance(customer_admin.account) == Decimal("0.00")
    event = PaymentEvent.objects.get()
    assert event.seller_id == reseller_keys.account_id and event.outcome == "refused"


def test_another_resellers_url_refuses(client, fake_stripe, reseller_keys, buyer):
    other = AccountFactory(kind="reseller")
    other_sk, other_whsec = "sk_test_" + "O" * 40, "whsec_" + "o" * 40
    fake_stripe.add_account(other_sk, other_whsec)
    other_keys = keys_service.stripe_keys_set(
        actor=UserFactory(account=other, role="reseller_admin"),
        account=other,
        publishable_key="pk_test_" + "Q" * 40,
        secret_key=other_sk,
        webhook_secret=other_whsec,
    )
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    body, headers = signed_event("checkout.session.completed", session, other_whsec)
    assert _post(client, _url(other_keys), body, headers).status_code == 400
    assert _balance(buyer.account) == Decimal("0.00")
    assert PaymentEvent.objects.get().seller_id == other.pk


def test_unknown_token_is_404(client, fake_stripe, reseller_keys, caplog):
    body, headers = signed_event("checkout.session.completed", {}, RESELLER_WHSEC)
    with caplog.at_level("WARNING"):
        assert _post(client, "/payments/stripe/webhook/nope/", body, headers).status_code == 404
    assert "unknown webhook" in caplog.text
    assert not PaymentEvent.objects.exists()


def test_rotated_webhook_secret_refuses_the_old_one(
    client, fake_stripe, reseller_keys, reseller_admin, buyer
):
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    new_whsec = "whsec_" + "N" * 40
    keys_service.stripe_keys_set(
        actor=reseller_admin,
        account=reseller_keys.account,
        publishable_key=reseller_keys.publishable_key,
        webhook_secret=new_whsec,
    )
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    assert _post(client, _url(reseller_keys), body, headers).status_code == 400
    event = PaymentEvent.objects.get()
    assert event.outcome == "refused" and "signature" in event.detail
    body, headers = signed_event("checkout.session.completed", session, new_whsec)
    assert _post(client, _url(reseller_keys), body, headers).status_code == 200
    assert _balance(buyer.account) == Decimal("60.00")


def test_removed_keys_refuse_the_resellers_events(
    client, fake_stripe, reseller_keys, reseller_admin, buyer, caplog
):
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    keys_service.stripe_keys_remove(actor=reseller_admin, account=reseller_keys.account)
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    with caplog.at_level("WARNING"):
        assert _post(client, _url(reseller_keys), body, headers).status_code == 404
        assert _post(client, PLATFORM_URL, body, headers).status_code == 400
    assert "unknown webhook" in caplog.text
    assert _balance(buyer.account) == Decimal("0.00")
    assert PaymentEvent.objects.get().outcome == "refused"


def test_undecryptable_keys_refuse_and_log_never_500(
    client, fake_stripe, reseller_keys, buyer, settings, caplog
):
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    with caplog.at_level("ERROR"):
        assert _post(client, _url(reseller_keys), body, headers).status_code == 400
    assert "cannot be decrypted" in caplog.text
    event = PaymentEvent.objects.get()
    assert event.outcome == "refused" and "not set up" in event.detail
    assert _balance(buyer.account) == Decimal("0.00")
    # Card is not offered meanwhile (the page still answers).
    client.force_login(buyer)
    response = client.get("/billing/balance/")
    assert response.status_code == 200
    assert 'id="pay-by-card"' not in response.content.decode()
    with pytest.raises(Exception, match="not available"):
        _start(buyer)


@pytest.mark.django_db(transaction=True)
def test_end_to_end_paid_on_the_resellers_stripe_credited_at_its_url(
    live_server, fake_stripe, reseller, reseller_admin
):
    fake_stripe.add_account(RESELLER_SK, RESELLER_WHSEC)
    keys = keys_service.stripe_keys_set(
        actor=reseller_admin,
        account=reseller,
        publishable_key="pk_test_" + "P" * 40,
        secret_key=RESELLER_SK,
        webhook_secret=RESELLER_WHSEC,
    )
    fake_stripe.accounts[RESELLER_SK]["webhook_url"] = live_server.url + _url(keys)
    fake_stripe.webhook_url = live_server.url + PLATFORM_URL
    buyer = UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")
    payment = _start(buyer, "75.00")
    fake_stripe.pay(payment.session_id)
    assert fake_stripe.delivered == [("checkout.session.completed", 200)]
    assert _balance(buyer.account) == Decimal("75.00")
    payment.refresh_from_db()
    assert payment.status == CardPayment.Status.PAID
    assert StripeKeys.objects.get(account=reseller).webhook_token == keys.webhook_token


def test_credited_at_the_url_on_the_resellers_own_host(client, fake_stripe, reseller_keys, buyer):
    from accounts.branding import brand_host_add

    brand_host_add(account=reseller_keys.account, host="voice.reseller.example")
    assert keys_service.webhook_url_for(reseller_keys).startswith("http://voice.reseller.example")
    payment = _start(buyer)
    session = fake_stripe.pay(payment.session_id, deliver=False)
    body, headers = signed_event("checkout.session.completed", session, RESELLER_WHSEC)
    response = client.post(
        _url(reseller_keys),
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
        HTTP_HOST="voice.reseller.example",
    )
    assert response.status_code == 200
    assert _balance(buyer.account) == Decimal("60.00")
