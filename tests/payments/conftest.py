"""Payments fixtures: a local fake of Stripe, with the platform's keys pointed at it."""

import pytest

from tests.payments.fake_stripe import FakeStripe


@pytest.fixture
def fake_stripe(settings):
    """A running fake Stripe; the platform takes card payments through it. Set
    ``fake_stripe.webhook_url`` (e.g. ``live_server.url + "/payments/stripe/webhook/"``)
    to have paid sessions delivered as signed webhooks."""
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = fake.secret_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"
    settings.STRIPE_CHECKOUT_ORIGIN = fake.url  # its hosted page
    yield fake
    fake.stop()
