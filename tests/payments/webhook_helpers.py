"""Helpers of the webhook tests: card payments opened through the fake Stripe, and signed
events posted to the real endpoint."""

import secrets
from decimal import Decimal

from django.test import Client

from didportal.crypto import encrypt
from payments.models import StripeKeys
from payments.services import card
from tests.factories import AccountFactory, UserFactory
from tests.payments.fake_stripe import signed_event

URL = "/payments/stripe/webhook/"
RESELLER_WEBHOOK_SECRET = "whsec_reseller_fake"


def post(body, signature=None, *, url=URL, client=None):
    headers = {} if signature is None else {"Stripe-Signature": signature}
    return (client or Client()).post(
        url, data=body, content_type="application/json", headers=headers
    )


def send(fake, event_type, obj, *, secret=None, url=URL, client=None, **kwargs):
    body, headers = signed_event(event_type, obj, secret or fake.webhook_secret, **kwargs)
    return post(body, headers["Stripe-Signature"], url=url, client=client)


def open_paid(fake, user, amount="60.00"):
    """A card payment of ``user``'s account, paid on the fake hosted page (the event not
    delivered yet). Returns (payment, session dict)."""
    started = card.card_checkout_start(
        user=user,
        amount=Decimal(amount),
        success_url="http://testserver/ok/{payment}/",
        cancel_url="http://testserver/cancel/{payment}/",
    )
    return started.payment, fake.pay(started.payment.session_id, deliver=False)


def reseller_with_keys(fake, name="Voxel Telecom"):
    """A reseller with its own Stripe keys (the fake's API key, its own webhook secret),
    one customer admin of its own, and its webhook URL."""
    reseller = AccountFactory(kind="reseller", name=name)
    admin = UserFactory(account=reseller, role="reseller_admin")
    keys = StripeKeys.objects.create(
        account=reseller,
        publishable_key="pk_test_reseller",
        secret_key_encrypted=encrypt(fake.secret_key),
        webhook_secret_encrypted=encrypt(RESELLER_WEBHOOK_SECRET),
        webhook_token=secrets.token_urlsafe(24),
        updated_by=admin,
    )
    customer = AccountFactory(kind="customer", parent=reseller, name=f"{name} customer")
    buyer = UserFactory(account=customer, role="customer_admin")
    return reseller, admin, buyer, f"{URL}{keys.webhook_token}/"
