"""Which ways to pay the balance page offers: a reseller's customers pay their reseller
(card only with the reseller's own keys, else its bank details); a reseller and the
platform's direct customers pay the platform (card only with the platform's keys)."""

import pytest

from accounts.branding import brand_update
from payments.services import stripe_keys as keys_service
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.postgres

PLATFORM_BANK = "IBAN NL00 PLAT 0000 0000 01"
RESELLER_BANK = "IBAN DE00 RESE 1111 2222 33"
CARD = 'id="pay-by-card"'


@pytest.fixture
def setup(settings, reseller, reseller_admin, customer_admin):
    settings.BILLING_BANK_DETAILS = PLATFORM_BANK
    brand_update(account=reseller, actor=reseller_admin, bank_details=RESELLER_BANK)
    buyer = UserFactory(account=AccountFactory(parent=reseller), role="customer_admin")
    return {"reseller": reseller_admin, "direct": customer_admin, "reseller's customer": buyer}


@pytest.fixture
def no_platform_keys(settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""


def _reseller_keys(reseller, admin):
    keys_service.stripe_keys_set(
        actor=admin,
        account=reseller,
        publishable_key="pk_live_" + "P" * 40,
        secret_key="sk_live_" + "S" * 40,
        webhook_secret="whsec_" + "W" * 40,
    )


def _page(client, user):
    client.force_login(user)
    response = client.get("/billing/balance/")
    assert response.status_code == 200
    return response.content.decode()


def _check(client, setup, *, card):
    """``card``: who is offered card payment."""
    for who, user in setup.items():
        page = _page(client, user)
        assert (CARD in page) == (who in card), who
        assert "Bank transfer" in page, who
        if who == "reseller's customer":
            assert RESELLER_BANK in page and PLATFORM_BANK not in page
        else:
            assert PLATFORM_BANK in page and RESELLER_BANK not in page, who


def test_neither_has_keys_bank_transfer_only(client, setup, no_platform_keys):
    _check(client, setup, card=set())


def test_platform_keys_only(client, setup, fake_stripe):
    _check(client, setup, card={"direct", "reseller"})


def test_both_have_keys(client, setup, fake_stripe, reseller, reseller_admin):
    _reseller_keys(reseller, reseller_admin)
    _check(client, setup, card={"direct", "reseller", "reseller's customer"})


def test_reseller_keys_only(client, setup, no_platform_keys, reseller, reseller_admin):
    _reseller_keys(reseller, reseller_admin)
    _check(client, setup, card={"reseller's customer"})


def test_removing_the_keys_falls_back_to_bank(client, setup, fake_stripe, reseller, reseller_admin):
    _reseller_keys(reseller, reseller_admin)
    assert CARD in _page(client, setup["reseller's customer"])
    keys_service.stripe_keys_remove(actor=reseller_admin, account=reseller)
    page = _page(client, setup["reseller's customer"])
    assert CARD not in page and RESELLER_BANK in page


def test_another_resellers_keys_do_not_count(client, setup, no_platform_keys):
    other = AccountFactory(kind="reseller")
    _reseller_keys(other, UserFactory(account=other, role="reseller_admin"))
    _check(client, setup, card=set())
